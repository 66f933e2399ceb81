// Configs for the proxy plugin's integration tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <chrono>
#include <thread>

#include "daemon.h"
#include "http_client.h"

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

// Waits (up to 5 s) until no request is in flight in the proxy's route:
// an upstream transfer that a client's leaving cancelled has ended.
// Each endpoint has routes of its own ("/e", "/e/*"): every one must be idle.
inline bool wait_for_proxy_idle(Daemon& d) {
    constexpr std::string_view kSeries = "kerberus_http_requests_in_flight{plugin=\"proxy\"";
    for (int i = 0; i < 100; ++i) {
        bool idle = true, seen = false;
        for (const std::string& line : split_lines(get(d.admin_url("/metrics")).body)) {
            if (line.rfind(kSeries, 0) != 0) continue;
            seen = true;
            idle = idle && line.ends_with("} 0");
        }
        if (seen && idle) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace kerberus::test
