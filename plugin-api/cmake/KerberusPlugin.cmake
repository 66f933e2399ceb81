# kerberus_add_plugin(<target> SOURCES src... [VERSION x.y.z] [OUTPUT_DIRECTORY dir])
#
# Builds a kerberus plugin: a MODULE library named <target>.so.<version>, with
# hidden visibility (only the entry symbol is exported) and -fno-gnu-unique
# (STB_GNU_UNIQUE symbols make a library impossible to unload). VERSION
# defaults to PROJECT_VERSION.
function(kerberus_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 KAP "" "VERSION;OUTPUT_DIRECTORY" "SOURCES")
  if(NOT KAP_SOURCES)
    message(FATAL_ERROR "kerberus_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT KAP_VERSION)
    set(KAP_VERSION ${PROJECT_VERSION})
  endif()
  if(NOT KAP_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
    message(FATAL_ERROR "kerberus_add_plugin(${target}): VERSION must be MAJOR.MINOR.PATCH, got '${KAP_VERSION}'")
  endif()
  add_library(${target} MODULE ${KAP_SOURCES})
  if(TARGET Kerberus::plugin_api)
    target_link_libraries(${target} PRIVATE Kerberus::plugin_api)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so.${KAP_VERSION}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(KAP_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${KAP_OUTPUT_DIRECTORY})
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-gnu-unique>)
  endif()
  # Undefined symbols fail the link, not the host's dlopen.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  # -fvisibility=hidden cannot hide libstdc++'s std:: symbols (they carry
  # default visibility); a version script exports the entry function alone.
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports.map)
  file(WRITE ${map} "{\n  global: kerberus_plugin_v[0-9]*;\n  local: *;\n};\n")
  target_link_options(${target} PRIVATE -Wl,--version-script=${map})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
