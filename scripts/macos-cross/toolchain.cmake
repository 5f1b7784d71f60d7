# CMake toolchain for cross-compiling to macOS on Linux with zig cc (clang
# 16 with Apple's libc headers and libSystem stubs), as scripts/macos-cross.sh
# sets it up. Give it:
#   -DSN_MACOS_ARCH=arm64|x86_64   the target architecture
#   -DSN_MACOS_TOOLS=DIR           the compiler wrappers macos-cross.sh writes
#                                  (DIR/<arch>-macos-cc, zig-ar, zig-ranlib)
#   -DSN_MACOS_PREFIX=DIR          libuv, libsodium and libyaml built for it
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR ${SN_MACOS_ARCH})
# try_compile() projects (check_symbol_exists) read this file again
set(CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SN_MACOS_ARCH SN_MACOS_TOOLS SN_MACOS_PREFIX)

set(CMAKE_C_COMPILER ${SN_MACOS_TOOLS}/${SN_MACOS_ARCH}-macos-cc)
set(CMAKE_AR ${SN_MACOS_TOOLS}/zig-ar CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB ${SN_MACOS_TOOLS}/zig-ranlib CACHE FILEPATH "zig ranlib")
# No Xcode here: no SDK to look for, no -arch flags (the target is in the wrapper).
set(CMAKE_OSX_SYSROOT "" CACHE PATH "none: zig carries the headers")
set(CMAKE_OSX_ARCHITECTURES "" CACHE STRING "none: the wrapper names the target")

set(CMAKE_FIND_ROOT_PATH ${SN_MACOS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg_check_modules() finds the macOS builds only
set(ENV{PKG_CONFIG_LIBDIR} ${SN_MACOS_PREFIX}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# zig's linker writes no MH_BUNDLE: MODULE libraries (the plugins) are
# linked as dylibs, which dlopen() loads the same way. A build on a Mac
# with Apple's toolchain makes bundles as usual.
set(CMAKE_USER_MAKE_RULES_OVERRIDE_C ${CMAKE_CURRENT_LIST_DIR}/rules.cmake)
