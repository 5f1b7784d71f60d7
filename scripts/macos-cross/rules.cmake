# Read after CMake's Darwin platform rules (CMAKE_USER_MAKE_RULES_OVERRIDE_C
# in toolchain.cmake): zig cc cannot link -bundle, so a MODULE is a dylib.
set(CMAKE_SHARED_MODULE_CREATE_C_FLAGS "-dynamiclib -Wl,-headerpad_max_install_names")
