// Configs for the proxy plugin's integration tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon.h"

namespace kerberus::test {

// A YAML flow-map entry: '<key>': '<url>'.
inline std::string simple_endpoint(std::string_view key, std::string_view url) {
    return "'" + std::string(key) + "': '" + std::string(url) + "'";
}

// A YAML flow-map entry: '<key>': { target: '<url>', <options> }.
inline std::string endpoint(std::string_view key, std::string_view url, std::string_view options) {
    return "'" + std::string(key) + "': { target: '" + std::string(url) + "', " + std::string(options) + " }";
}

// The bundled plugins with the proxy serving `endpoints`.
inline ConfigBuilder proxy_config(const std::vector<std::string>& endpoints) {
    std::string joined;
    for (const auto& e : endpoints) joined += (joined.empty() ? "" : ", ") + e;
    return bundled_config().plugin("proxy", "config: { endpoints: { " + joined + " } }");
}

}  // namespace kerberus::test
