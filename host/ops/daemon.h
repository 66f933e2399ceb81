// The daemon's life: load plugins, initialise them, serve, and on SIGTERM
// drain and stop. Also `--check`, which stops after loading.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace kerberus::ops {

// Exit codes, sysexits-style where one fits.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a required plugin failed, the port is taken, ...
inline constexpr int kExitUsage = 64;   // EX_USAGE
inline constexpr int kExitConfig = 78;  // EX_CONFIG

// `files` are re-read on SIGHUP.
int serve(const config::Config& config, const std::vector<std::string>& files);

// Prints the plugin table to stdout; 0 when every plugin file loads and
// passes the ABI check and every required plugin is present.
int check(const config::Config& config);

}  // namespace kerberus::ops
