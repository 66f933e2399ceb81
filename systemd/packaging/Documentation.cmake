# SPDX-License-Identifier: Apache-2.0
# The documentation and the plugin examples, installed by `cmake --install`
# and shipped in the .deb alike:
#
#   <docdir>/README.md                  README.md
#   <docdir>/<guide>.md                 docs/*.md (operating.md is installed
#                                       with the unit that names it, in
#                                       systemd/CMakeLists.txt)
#   <docdir>/plugins/<id>/README.md     each bundled plugin's README
#   <datadir>/kerberus/examples/hello/  hello.c, the template for plugins in C
#   <datadir>/kerberus/examples/echo/   echo.cpp, the C++ SDK example
#   <docdir>/LICENSE                    docs/LICENSE; install component
#                                       "license", which the .deb leaves out
#                                       (Packaging.cmake)
#
# <docdir> is share/doc/kerberus and <datadir> share, under the prefix.
# Each example has a CMakeLists.txt that builds it against the installed
# CMake package alone, wherever the directory is copied to.
include_guard(GLOBAL)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB _kerberus_guides ${PROJECT_SOURCE_DIR}/docs/*.md)
list(FILTER _kerberus_guides EXCLUDE REGEX "/operating\\.md$")
install(FILES ${_kerberus_guides} DESTINATION ${CMAKE_INSTALL_DOCDIR})

file(GLOB _kerberus_plugin_readmes ${PROJECT_SOURCE_DIR}/plugins/*/README.md)
foreach(readme IN LISTS _kerberus_plugin_readmes)
  get_filename_component(_kerberus_plugin_dir ${readme} DIRECTORY)
  get_filename_component(_kerberus_plugin_id ${_kerberus_plugin_dir} NAME)
  install(FILES ${readme} DESTINATION ${CMAKE_INSTALL_DOCDIR}/plugins/${_kerberus_plugin_id})
endforeach()

# The examples ask for the CMake package of the release they come with.
set(KERBERUS_EXAMPLE_PACKAGE_VERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
foreach(example IN ITEMS hello/hello.c echo/echo.cpp)
  get_filename_component(_kerberus_example ${example} DIRECTORY)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/examples/${_kerberus_example}/CMakeLists.txt.in
    ${CMAKE_BINARY_DIR}/packaging/examples/${_kerberus_example}/CMakeLists.txt @ONLY)
  install(FILES
    ${PROJECT_SOURCE_DIR}/plugins/${example}
    ${CMAKE_BINARY_DIR}/packaging/examples/${_kerberus_example}/CMakeLists.txt
    DESTINATION ${CMAKE_INSTALL_DATADIR}/kerberus/examples/${_kerberus_example})
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/docs/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT license)
