# CMake toolchain file for arm64 (aarch64-linux-gnu), with Debian's cross compiler and
# multiarch -dev packages (debian-cross.cmake):
#   cmake -DCMAKE_TOOLCHAIN_FILE=container/toolchain/aarch64-linux-gnu.cmake ...
set(SN_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
