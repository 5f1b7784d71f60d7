# subnetra_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>] [NO_INSTALL])
#
# Builds a Subnetra plugin: a MODULE library with no "lib" prefix, hidden
# symbols, and only sn_plugin_entry_v1 exported. Name the target
# <kind>_<name> (e.g. egress_mytransport) so subnetrad finds it as
# plugins: { egress: mytransport }. Installs into SUBNETRA_PLUGIN_DIR unless
# NO_INSTALL is given.
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
