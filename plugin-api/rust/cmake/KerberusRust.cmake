# Rust in the kerberus build: finds cargo and rustc, and provides
#
#   kerberus_add_rust_plugin(<target> CRATE_DIR <dir> OUTPUT_DIRECTORY <dir>)
#
# which builds the cdylib crate in <dir> (depending on plugin-api/rust by
# path) with cargo and puts it in OUTPUT_DIRECTORY as <target>.so.<version>,
# <version> being the crate's: the name kerberus_add_plugin() gives C and
# C++ plugins, and the version the crate's descriptor reports by default.
#
# Cargo runs offline and --locked against each crate's committed Cargo.lock
# (no crate has a dependency from a registry), with CARGO_HOME and its
# target directory inside the build tree, so nothing is written outside it.
include_guard(GLOBAL)

# What Debian 12 ships; the crates promise nothing newer (rust-version).
set(KERBERUS_RUST_MINIMUM 1.63)

find_program(KERBERUS_CARGO cargo DOC "cargo, for the Rust plugin SDK and the Rust plugins")
if(NOT KERBERUS_CARGO)
  message(FATAL_ERROR
    "cargo was not found. kerberus builds its Rust plugin SDK (plugin-api/rust) and Rust plugins with it:\n"
    "  install Debian's toolchain with .ci/install-deps (or: apt-get install rustc cargo),\n"
    "  or name a cargo with -DKERBERUS_CARGO=/path/to/cargo.")
endif()
# The rustc and rustdoc beside that cargo: a rustup cargo earlier on PATH
# must not pair with Debian's rustc, or the reverse.
get_filename_component(_kerberus_cargo_dir "${KERBERUS_CARGO}" DIRECTORY)
find_program(KERBERUS_RUSTC rustc HINTS "${_kerberus_cargo_dir}" NO_DEFAULT_PATH)
find_program(KERBERUS_RUSTC rustc)
find_program(KERBERUS_RUSTDOC rustdoc HINTS "${_kerberus_cargo_dir}" NO_DEFAULT_PATH)
find_program(KERBERUS_RUSTDOC rustdoc)
if(NOT KERBERUS_RUSTC OR NOT KERBERUS_RUSTDOC)
  message(FATAL_ERROR "cargo is ${KERBERUS_CARGO} but rustc or rustdoc was not found beside it or on PATH: "
                      "install Debian's rustc (.ci/install-deps does).")
endif()
execute_process(COMMAND "${KERBERUS_RUSTC}" --version OUTPUT_VARIABLE _kerberus_rustc_version
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _kerberus_rustc_result)
string(REGEX MATCH "^rustc ([0-9]+\\.[0-9]+\\.[0-9]+)" _kerberus_rustc_match "${_kerberus_rustc_version}")
if(NOT _kerberus_rustc_result EQUAL 0 OR NOT _kerberus_rustc_match)
  message(FATAL_ERROR "${KERBERUS_RUSTC} --version did not say which rustc it is: '${_kerberus_rustc_version}'")
endif()
if(CMAKE_MATCH_1 VERSION_LESS KERBERUS_RUST_MINIMUM)
  message(FATAL_ERROR "${KERBERUS_RUSTC} is rustc ${CMAKE_MATCH_1}; the Rust plugin SDK needs ${KERBERUS_RUST_MINIMUM} or newer")
endif()
message(STATUS "Rust: ${_kerberus_rustc_version} (${KERBERUS_RUSTC}), cargo ${KERBERUS_CARGO}")

set(KERBERUS_RUST_SDK_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
get_filename_component(KERBERUS_RUST_SDK_DIR "${KERBERUS_RUST_SDK_DIR}" ABSOLUTE)
set(KERBERUS_CARGO_TARGET_DIR ${CMAKE_BINARY_DIR}/cargo)
# `cmake -E env` arguments every cargo command runs with. Two cargo
# processes may share the target directory: cargo locks it.
set(KERBERUS_CARGO_ENV
  CARGO_HOME=${KERBERUS_CARGO_TARGET_DIR}/home
  RUSTC=${KERBERUS_RUSTC}
  RUSTDOC=${KERBERUS_RUSTDOC})
# Two jobs at most, like the rest of the build: these machines have two cores.
set(KERBERUS_CARGO_FLAGS --offline --locked -j 2 --target-dir ${KERBERUS_CARGO_TARGET_DIR})

# The value of `key = "..."` in the [package] table of a Cargo.toml.
function(_kerberus_cargo_package_field manifest key out)
  file(READ "${manifest}" toml)
  string(REGEX MATCH "\\[package\\][^[]*" package "${toml}")
  string(REGEX MATCH "\n${key} *= *\"([^\"]*)\"" found "${package}")
  if(NOT found)
    message(FATAL_ERROR "${manifest}: no ${key} in [package]")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

function(kerberus_add_rust_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 KRP "" "CRATE_DIR;OUTPUT_DIRECTORY" "")
  if(NOT KRP_CRATE_DIR OR NOT KRP_OUTPUT_DIRECTORY)
    message(FATAL_ERROR "kerberus_add_rust_plugin(${target}): CRATE_DIR and OUTPUT_DIRECTORY are required")
  endif()
  get_filename_component(crate_dir "${KRP_CRATE_DIR}" ABSOLUTE)
  set(manifest ${crate_dir}/Cargo.toml)
  _kerberus_cargo_package_field(${manifest} name crate)
  _kerberus_cargo_package_field(${manifest} version version)
  if(NOT version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
    message(FATAL_ERROR "${manifest}: version must be MAJOR.MINOR.PATCH, got '${version}'")
  endif()
  string(REPLACE "-" "_" library "${crate}")
  set(built ${KERBERUS_CARGO_TARGET_DIR}/release/lib${library}.so)
  set(output ${KRP_OUTPUT_DIRECTORY}/${target}.so.${version})

  # cargo decides what to rebuild; these only tell the build when to ask it.
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${crate_dir}/src/*.rs ${KERBERUS_RUST_SDK_DIR}/src/*.rs)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E env ${KERBERUS_CARGO_ENV}
            ${KERBERUS_CARGO} build --release ${KERBERUS_CARGO_FLAGS} --manifest-path ${manifest}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${KRP_OUTPUT_DIRECTORY}
    COMMAND ${CMAKE_COMMAND} -E copy ${built} ${output}
    DEPENDS ${sources} ${manifest} ${crate_dir}/Cargo.lock
            ${KERBERUS_RUST_SDK_DIR}/Cargo.toml ${KERBERUS_RUST_SDK_DIR}/Cargo.lock
    COMMENT "Building Rust plugin ${target} (${crate} ${version}) with cargo"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${output})
  set_target_properties(${target} PROPERTIES KERBERUS_PLUGIN_FILE ${output})
endfunction()
