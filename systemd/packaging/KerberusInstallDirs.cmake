# Operator-facing install directories, shared by config/, systemd/ and the
# package. Sets:
#
#   KERBERUS_INSTALL_DIRS_SCRIPT  a script for install(CODE "include(...)")
#                                 that sets KERBERUS_FULL_* for the prefix
#                                 actually installed to (InstallDirs.cmake.in)
#   KERBERUS_LOCAL_PLUGIN_DIR     the administrator's plugin directory
#
# Cache variables, for distributions with other conventions:
#   KERBERUS_SYSTEMD_UNITDIR  absolute directory for kerberusd.service
#   KERBERUS_SYSUSERSDIR      absolute directory for the sysusers.d file
#   KERBERUS_LOCAL_PLUGIN_DIR see above

set(KERBERUS_SYSTEMD_UNITDIR "" CACHE PATH
  "Where kerberusd.service is installed (empty: pkg-config systemd for prefix /usr, else <prefix>/lib/systemd/system)")
set(KERBERUS_SYSUSERSDIR "" CACHE PATH
  "Where the sysusers.d file is installed (empty: pkg-config systemd for prefix /usr, else <prefix>/lib/sysusers.d)")
# /usr/local belongs to the administrator (FHS), so the package manager never
# writes plugin files there, and it is root-owned and read-only to the
# sandboxed daemon. The daemon's state directory (/var/lib/kerberus) is not
# used for code: the daemon can write there, and must not be able to plant
# code it will load later.
set(KERBERUS_LOCAL_PLUGIN_DIR "/usr/local/lib/kerberus/plugins" CACHE PATH
  "Plugin directory for the administrator's own plugins, named in the installed configuration")

# systemd's directories for the system prefix. Debian 12 says
# /lib/systemd/system; later releases and other distributions /usr/lib/...
set(KERBERUS_DETECTED_UNITDIR "/usr/lib/systemd/system")
set(KERBERUS_DETECTED_SYSUSERSDIR "/usr/lib/sysusers.d")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_get_variable(_kerberus_unitdir systemd systemdsystemunitdir)
  pkg_get_variable(_kerberus_sysusersdir systemd sysusersdir)
  if(_kerberus_unitdir)
    set(KERBERUS_DETECTED_UNITDIR "${_kerberus_unitdir}")
  endif()
  if(_kerberus_sysusersdir)
    set(KERBERUS_DETECTED_SYSUSERSDIR "${_kerberus_sysusersdir}")
  endif()
endif()

set(KERBERUS_INSTALL_DIRS_SCRIPT ${CMAKE_BINARY_DIR}/packaging/KerberusInstallDirsAtInstall.cmake)
configure_file(${CMAKE_CURRENT_LIST_DIR}/InstallDirs.cmake.in ${KERBERUS_INSTALL_DIRS_SCRIPT} @ONLY)
