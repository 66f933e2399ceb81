// Reading the auth section and plugins.<id>.auth (see config.h).
#pragma once

#include "config/config.h"
#include "config/value.h"

namespace kerberus::config::detail {

AuthSettings read_auth(const Value& value, const std::string& path);

// plugins.<id>.auth into `plugin`.
void read_plugin_auth(const Value& value, const std::string& path, PluginSettings& plugin);

// Refuses a listener reachable from other machines that nothing guards:
// server.listen off loopback with no externalAccess entry and the default
// policy on, and admin.listen off loopback without admin.token.
void check_exposure(const Config& config);

}  // namespace kerberus::config::detail
