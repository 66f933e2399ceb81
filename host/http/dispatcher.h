// From a parsed HTTP request to the plugin that serves it, and back: the
// host's own endpoints, path normalisation, plugin and route lookup, the
// handler call and every answer the host gives itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "http/exchange.h"
#include "http/kept_requests.h"
#include "http/request_parser.h"
#include "plugins/plugin_instance.h"

namespace kerberus::http {

// Liveness answers 200 while the process runs; readiness 200 only between
// "all plugins initialised" and "shutdown began", so load balancers drain.
inline constexpr std::string_view kLivenessPath = "/.kerberus/health/v1/liveness";
inline constexpr std::string_view kReadinessPath = "/.kerberus/health/v1/readiness";

// Largest response body a plugin may send (an answer is formatted whole).
inline constexpr std::size_t kMaxResponseBody = 64 * 1024 * 1024;
// Request line plus headers; more gets 431.
inline constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

class Dispatcher {
public:
    struct Settings {
        std::size_t max_request_body;
        std::chrono::milliseconds request_timeout;
    };

    Dispatcher(Settings settings, std::shared_ptr<spdlog::logger> logger);

    // Publishes the plugins to serve: requests that start after this call
    // see them; requests already inside an instance finish on it. Workers
    // pick the new set up with one relaxed load per request, no lock.
    void publish(const std::vector<std::shared_ptr<PluginInstance>>& plugins);

    void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
    // Draining: answers still flow, but every response closes its connection.
    void set_draining() { draining_.store(true, std::memory_order_relaxed); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    std::size_t max_request_body() const { return settings_.max_request_body; }

    // Requests accepted and not yet answered (sync and kept).
    int64_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }

    struct Arrival {
        std::string_view remote;  // the client's address
        bool pipelined;           // more requests follow on the connection
    };

    // Server worker threads. Returns false when a plugin kept the request:
    // its answer comes later (and closes the connection if `pipelined`).
    bool handle(const ParsedRequest& request, Connection to, const Arrival& arrival);

    // Answers a request that could not be parsed, or did not arrive in
    // time, with `status` (its method and target when known, for the error
    // body); the connection closes.
    void reject(Connection to, int status, std::string_view message, std::string_view method = {},
                std::string_view target = {});

    // kerberus_host_api::respond.
    kerberus_status respond(Exchange& ex, int status, std::string_view body);
    // kerberus_host_api::respond_error: respond() with the host's JSON error body.
    kerberus_status respond_error(Exchange& ex, int status, std::string_view message);

    KeptRequests& kept() { return kept_; }

private:
    // A transparent hash so the hot path looks ids up by string_view.
    struct IdHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using PluginMap = std::unordered_map<std::string, PluginInstance*, IdHash, std::equal_to<>>;
    struct Snapshot {
        std::vector<std::shared_ptr<PluginInstance>> owners;  // keeps the map's pointers alive
        PluginMap by_id;
    };
    const Snapshot& current_snapshot();
    PluginInstance* enter_plugin(std::string_view id);

    // Each returns false when the exchange was kept by a plugin.
    bool route(Exchange& ex, bool pipelined);
    bool answer_error(Exchange& ex, metrics::HostReason reason, std::string_view message);
    bool after_handler(Exchange* ex, kerberus_status status, const RouteHandler& handler, bool pipelined);
    void answered(Exchange& ex) {
        if (ex.plugin) ex.plugin->leave();
        in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    }

    Settings settings_;
    std::shared_ptr<spdlog::logger> logger_;
    std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> ready_{false};
    std::atomic<bool> draining_{false};
    std::atomic<int64_t> in_flight_{0};
    KeptRequests kept_;
};

}  // namespace kerberus::http
