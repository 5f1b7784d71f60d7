# Cross-compiling with Debian's packages, included by the per-arch toolchain
# files after they set SN_CROSS_TRIPLET and CMAKE_SYSTEM_PROCESSOR. Needs
# gcc-TRIPLET (with libc6-dev-ARCH-cross) and the multiarch -dev packages
# libuv1-dev:ARCH, libsodium-dev:ARCH, libyaml-dev:ARCH, which
# scripts/container-image.sh installs when they are missing.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SN_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SN_CROSS_TRIPLET})
# The cross libc lives under /usr/TRIPLET, the multiarch libraries in
# /usr/lib/TRIPLET: search both; never run a found program.
set(CMAKE_FIND_ROOT_PATH /usr/${SN_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# pkg-config reads the target's .pc files, never the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SN_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
