# SPDX-License-Identifier: Apache-2.0
# A plugin under the real daemon, from the plugin's own build: the installed
# package includes this file (KerberusConfig.cmake), and both functions run
# KERBERUSD_EXECUTABLE, the kerberusd installed with the package.
#
# kerberus_add_plugin_test(NAME <test> PLUGIN <target> [ID <id>] [CONFIG <yaml>]
#                          [TIMEOUT <seconds>] COMMAND <command> [<arg>...])
#
#   Registers a CTest test. It starts kerberusd on free ports of 127.0.0.1
#   (public and admin listener) with the directory of <target>'s plugin file
#   as its plugin directory, waits until it serves, and runs COMMAND with
#   KERBERUS_TOKEN (a bearer token of subject "harness": routes need none
#   unless CONFIG turns auth's default policy on), KERBERUS_URL and
#   KERBERUS_ADMIN_URL (http://127.0.0.1:PORT, no trailing
#   slash) in its environment. Then it stops the daemon with SIGTERM. The
#   test fails when the daemon does not start, when COMMAND fails, or when
#   the daemon does not exit 0 within 15 s, and prints the daemon's log when
#   it fails. The daemon is killed whatever happens, a timeout included.
#
#   <target>  made by kerberus_add_plugin() or kerberus_add_rust_plugin()
#   ID        the plugin id, if not the target's name: the daemon must start
#             it (plugins.<id>.required), so a plugin whose init fails fails
#             the test with the reason in the log
#   CONFIG    a kerberus.yaml layered under the harness's settings, relative
#             to the current source directory: the plugin's settings
#             (plugins.<id>.config), a log level. The listeners and
#             plugin_directories are always the harness's.
#   TIMEOUT   the test's TIMEOUT property; default 120
#   COMMAND   runs in the current binary directory; a target's file is
#             $<TARGET_FILE:tgt> (COMMAND is not looked up as a target)
#
# kerberus_add_plugin_run(<target> [ID <id>] [CONFIG <yaml>])
#
#   Adds the target kerberus-run-<target>, and `run` if the project has no
#   target of that name yet: it builds the plugin, then serves it under
#   kerberusd in the foreground, with the same settings as the test, its log
#   on the terminal, until Ctrl-C. It prints the URLs, and the answer to
#   GET /api/<id>/ when curl is installed:
#
#     cmake --build build --target run
#
# Example:
#
#   find_package(Kerberus 0.2 REQUIRED)
#   enable_testing()
#   kerberus_add_plugin(greeter SOURCES greeter.c)
#   kerberus_add_plugin_run(greeter CONFIG kerberus.yaml)
#   kerberus_add_plugin_test(NAME greeter-routes PLUGIN greeter CONFIG kerberus.yaml
#                            COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tests/routes.sh)
include_guard(GLOBAL)

set(_KERBERUS_HARNESS_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/kerberus-plugin-harness.sh)

# Sets <prefix>_dir (the plugin file's directory, maybe a generator
# expression), <prefix>_id and <prefix>_config ("-" for none) for `target`.
function(_kerberus_harness_args caller target id config prefix)
  if(NOT TARGET "${target}")
    message(FATAL_ERROR "${caller}: no target named '${target}'; name the target of kerberus_add_plugin() "
                        "or kerberus_add_rust_plugin()")
  endif()
  get_target_property(file ${target} KERBERUS_PLUGIN_FILE)
  get_target_property(type ${target} TYPE)
  if(file)
    get_filename_component(dir "${file}" DIRECTORY)
  elseif(type STREQUAL "MODULE_LIBRARY" OR type STREQUAL "SHARED_LIBRARY")
    set(dir "$<TARGET_FILE_DIR:${target}>")
  else()
    message(FATAL_ERROR "${caller}: ${target} is not a plugin: make it with kerberus_add_plugin() or "
                        "kerberus_add_rust_plugin()")
  endif()
  if(NOT id)
    set(id ${target})
  endif()
  string(LENGTH "${id}" length)
  if(NOT id MATCHES "^[a-z0-9][a-z0-9-]*$" OR length GREATER 64)
    message(FATAL_ERROR "${caller}: '${id}' is not a plugin id ([a-z0-9][a-z0-9-]*, at most 64 characters); "
                        "give the plugin's id with ID")
  endif()
  if(config)
    get_filename_component(config "${config}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${config}")
      message(FATAL_ERROR "${caller}: CONFIG ${config} does not exist")
    endif()
  else()
    set(config -)
  endif()
  if(NOT KERBERUSD_EXECUTABLE OR NOT EXISTS "${KERBERUSD_EXECUTABLE}")
    message(FATAL_ERROR "${caller}: kerberusd not found at '${KERBERUSD_EXECUTABLE}', where the Kerberus "
                        "package expects it beside itself; set KERBERUSD_EXECUTABLE to a kerberusd")
  endif()
  set(${prefix}_dir "${dir}" PARENT_SCOPE)
  set(${prefix}_id "${id}" PARENT_SCOPE)
  set(${prefix}_config "${config}" PARENT_SCOPE)
endfunction()

function(kerberus_add_plugin_test)
  cmake_parse_arguments(PARSE_ARGV 0 KPT "" "NAME;PLUGIN;ID;CONFIG;TIMEOUT" "COMMAND")
  if(NOT KPT_NAME OR NOT KPT_PLUGIN OR NOT KPT_COMMAND)
    message(FATAL_ERROR "kerberus_add_plugin_test: NAME, PLUGIN and COMMAND are required")
  endif()
  if(KPT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kerberus_add_plugin_test(${KPT_NAME}): unknown arguments ${KPT_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT KPT_TIMEOUT)
    set(KPT_TIMEOUT 120)
  endif()
  _kerberus_harness_args("kerberus_add_plugin_test(${KPT_NAME})" "${KPT_PLUGIN}" "${KPT_ID}" "${KPT_CONFIG}" run)
  # The daemon's log and configuration, in the build tree: a test killed at
  # its timeout leaves them there for the next run, not in /tmp.
  string(MAKE_C_IDENTIFIER "${KPT_NAME}" workdir)
  string(SHA1 name_hash "${KPT_NAME}")
  string(SUBSTRING "${name_hash}" 0 8 name_hash)
  set(workdir ${CMAKE_CURRENT_BINARY_DIR}/kerberus-plugin-tests/${workdir}-${name_hash})
  add_test(NAME ${KPT_NAME}
    COMMAND sh ${_KERBERUS_HARNESS_SCRIPT} test ${workdir} ${KERBERUSD_EXECUTABLE} ${run_dir} ${run_id}
            ${run_config} ${KPT_COMMAND})
  set_tests_properties(${KPT_NAME} PROPERTIES TIMEOUT ${KPT_TIMEOUT})
endfunction()

function(kerberus_add_plugin_run target)
  cmake_parse_arguments(PARSE_ARGV 1 KPR "" "ID;CONFIG" "")
  if(KPR_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kerberus_add_plugin_run(${target}): unknown arguments ${KPR_UNPARSED_ARGUMENTS}")
  endif()
  _kerberus_harness_args("kerberus_add_plugin_run(${target})" "${target}" "${KPR_ID}" "${KPR_CONFIG}" run)
  add_custom_target(kerberus-run-${target}
    COMMAND sh ${_KERBERUS_HARNESS_SCRIPT} run - ${KERBERUSD_EXECUTABLE} ${run_dir} ${run_id} ${run_config}
    USES_TERMINAL
    COMMENT "Serving ${run_id} under ${KERBERUSD_EXECUTABLE}"
    VERBATIM)
  add_dependencies(kerberus-run-${target} ${target})
  if(NOT TARGET run)
    add_custom_target(run)
    add_dependencies(run kerberus-run-${target})
  endif()
endfunction()
