# The Debian package: `cpack -G DEB` in the build directory (needs dpkg-dev
# and file) writes kerberus_<version>-<release>_<arch>.deb.
#
# One package, "kerberus", holds the daemon, the bundled plugins, the
# installed configuration (conffiles), the systemd unit, the sysusers.d
# entry, the plugin-author files (two headers, the CMake package with its
# test harness, kerberus.pc, kerberus-new-plugin and its templates, the Rust
# crate, the examples) and the documentation. The author files are a
# few kilobytes, architecture-free, and name the plugin directory of the
# daemon they ship with; whoever builds a plugin for this host also wants
# that host, so a -dev split would buy nothing but a second package to keep
# in step.
#
# The package is built for the prefix /usr whatever CMAKE_INSTALL_PREFIX the
# tree was configured with: the configuration and the unit compute their
# paths when installed (KerberusInstallDirs.cmake).
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KerberusInstallDirs.cmake)

set(KERBERUS_PACKAGE_MAINTAINER "kerberus maintainers <kerberus@example.invalid>" CACHE STRING
  "Maintainer field of the Debian package")
set(KERBERUS_PACKAGE_RELEASE "1" CACHE STRING
  "Debian revision of the package (the part after the upstream version)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kerberus)
set(CPACK_PACKAGE_VENDOR kerberus)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${KERBERUS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "native plugin host serving HTTP routes from versioned .so plugins")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# What the package installs: the install rules without a COMPONENT
# ("Unspecified"), which is all of `cmake --install` but for component
# "license" (docs/LICENSE, for installs outside Debian), plus component
# "deb", the files only the package has (below).
set(CPACK_INSTALL_CMAKE_PROJECTS
  "${CMAKE_BINARY_DIR};${PROJECT_NAME};Unspecified;/"
  "${CMAKE_BINARY_DIR};${PROJECT_NAME};deb;/")
# Debian ships stripped binaries; the build tree keeps the symbols.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME kerberus)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${KERBERUS_PACKAGE_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The synopsis line is CPACK_PACKAGE_DESCRIPTION_SUMMARY.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "kerberusd is a long-running daemon that loads plugins through a stable C ABI
and serves each plugin's routes under /api/<plugin>/. It runs as a hardened
systemd service (Type=notify, watchdog, reload on SIGHUP).
.
This package also holds what plugin authors build against out of tree: the
headers, the CMake package, the pkg-config file, the Rust crate and
kerberus-new-plugin, which writes a new plugin in C, C++ or Rust.")
# Library dependencies come from dpkg-shlibdeps on the daemon and the
# plugins; postinst needs systemd-sysusers (the alternatives are the ones
# debhelper uses for sysusers.d files).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers | systemd-sysusers")
# What a plugin author builds with: the C++ SDK (kerberus/plugin.hpp) uses
# RapidJSON's headers; the generator's projects want CMake, a compiler and,
# for Rust, cargo; the generated tests call curl.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "rapidjson-dev, cmake, g++, cargo, curl")

# Maintainer scripts and conffiles. Everything the package installs below
# /etc is a conffile, so dpkg keeps an administrator's edits on upgrade.
set(KERBERUS_UNIT kerberusd.service)
set(KERBERUS_SYSUSERS_FILE kerberus.conf)
if(IS_ABSOLUTE "${CMAKE_INSTALL_SYSCONFDIR}")
  set(_kerberus_package_configdir "${CMAKE_INSTALL_SYSCONFDIR}/kerberus")
else()
  set(_kerberus_package_configdir "/etc/kerberus")  # GNUInstallDirs for /usr
endif()
set(_kerberus_control_dir ${CMAKE_BINARY_DIR}/packaging/debian)
file(WRITE ${_kerberus_control_dir}/conffiles
  "${_kerberus_package_configdir}/kerberus.yaml\n${_kerberus_package_configdir}/local.yaml\n")
foreach(script IN ITEMS postinst prerm postrm)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/${script}.in ${_kerberus_control_dir}/${script} @ONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_kerberus_control_dir}/conffiles
  ${_kerberus_control_dir}/postinst
  ${_kerberus_control_dir}/prerm
  ${_kerberus_control_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# /usr/share/doc/kerberus/copyright (Debian policy 12.5): debian/copyright,
# machine-readable (DEP-5), naming the licence and Debian's copy of its
# text. /usr/share/doc/kerberus/changelog.Debian.gz (policy 12.7):
# debian/changelog, compressed with `gzip -9n` as dh_compress does. Its
# top entry must name the package's version, so a new upstream version or
# KERBERUS_PACKAGE_RELEASE needs a new entry there first, or cpack stops.
# With them goes the package's lintian overrides file. EXCLUDE_FROM_ALL:
# `cmake --install` without --component leaves all three out.
set(_kerberus_package_version "${PROJECT_VERSION}-${KERBERUS_PACKAGE_RELEASE}")
install(CODE "
  include(\"${KERBERUS_INSTALL_DIRS_SCRIPT}\")
  file(READ \"${CMAKE_CURRENT_LIST_DIR}/debian/changelog\" _kerberus_changelog_top LIMIT 200)
  string(REGEX REPLACE \"\\n.*\" \"\" _kerberus_changelog_top \"\${_kerberus_changelog_top}\")
  string(FIND \"\${_kerberus_changelog_top}\" \"kerberus (${_kerberus_package_version}) \" _kerberus_at)
  if(NOT _kerberus_at EQUAL 0)
    message(FATAL_ERROR \"${CMAKE_CURRENT_LIST_DIR}/debian/changelog: the top entry is not for kerberus ${_kerberus_package_version}, the version of the package: \${_kerberus_changelog_top}\")
  endif()
  file(MAKE_DIRECTORY \"\${KERBERUS_INSTALL_GENERATED_DIR}\")
  execute_process(COMMAND gzip -9n -c \"${CMAKE_CURRENT_LIST_DIR}/debian/changelog\"
    OUTPUT_FILE \"\${KERBERUS_INSTALL_GENERATED_DIR}/changelog.Debian.gz\"
    COMMAND_ERROR_IS_FATAL ANY)
  file(INSTALL DESTINATION \"\${KERBERUS_FULL_DOCDIR}\" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES \"${CMAKE_CURRENT_LIST_DIR}/debian/copyright\" \"\${KERBERUS_INSTALL_GENERATED_DIR}/changelog.Debian.gz\")
" COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME kerberus
  COMPONENT deb EXCLUDE_FROM_ALL)

include(CPack)
