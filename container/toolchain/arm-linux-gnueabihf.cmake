# CMake toolchain file for armhf (arm-linux-gnueabihf), with Debian's cross compiler and
# multiarch -dev packages (debian-cross.cmake):
#   cmake -DCMAKE_TOOLCHAIN_FILE=container/toolchain/arm-linux-gnueabihf.cmake ...
set(SN_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
