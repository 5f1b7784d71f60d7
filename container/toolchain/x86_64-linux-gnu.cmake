# CMake toolchain file for amd64 (x86_64-linux-gnu), with Debian's cross compiler and
# multiarch -dev packages (debian-cross.cmake):
#   cmake -DCMAKE_TOOLCHAIN_FILE=container/toolchain/x86_64-linux-gnu.cmake ...
set(SN_CROSS_TRIPLET x86_64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
