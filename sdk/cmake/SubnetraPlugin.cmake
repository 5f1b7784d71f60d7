# subnetra_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>] [NO_INSTALL])
#
# Builds a Subnetra plugin: a MODULE library with no "lib" prefix, hidden
# symbols, and only sn_plugin_entry_v1 exported. Name the target
# <kind>_<name> (e.g. egress_mytransport) so subnetrad finds it as
# plugins: { egress: mytransport }. Installs into SUBNETRA_PLUGIN_DIR unless
# NO_INSTALL is given.
#
# A plugin runs on every packet: a project that sets no build type gets
# Release (optimised, -O3 -DNDEBUG with GCC and Clang), not CMake's empty
# default (no optimisation). Pass -DCMAKE_BUILD_TYPE=Debug to debug.
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type (subnetra_add_plugin: Release by default)" FORCE)
endif()

function(subnetra_add_plugin target)
  cmake_parse_arguments(SNP "NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT SNP_SOURCES)
    message(FATAL_ERROR "subnetra_add_plugin(${target}): SOURCES is required")
  endif()
  add_library(${target} MODULE ${SNP_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    C_STANDARD 11)
  target_link_libraries(${target} PRIVATE Subnetra::sdk ${SNP_LIBRARIES})
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined" "LINKER:--exclude-libs,ALL")
  endif()
  if(NOT SNP_NO_INSTALL AND DEFINED SUBNETRA_PLUGIN_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${SUBNETRA_PLUGIN_DIR}")
  endif()
endfunction()
