// From a parsed HTTP request to the plugin that serves it, and back: the
// host's own endpoints, path normalisation, plugin and route lookup, the
// handler call and every answer the host gives itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "http/access_log.h"
#include "http/exchange.h"
#include "http/kept_requests.h"
#include "http/path.h"
#include "http/request_parser.h"
#include "plugins/plugin_instance.h"

namespace kerberus::http {

// Liveness answers 200 while the process runs (the watchdog probes it).
inline constexpr std::string_view kLivenessPath = "/.kerberus/health/v1/liveness";

// Largest response body a plugin may send (an answer is formatted whole).
inline constexpr std::size_t kMaxResponseBody = 64 * 1024 * 1024;
// Request line plus headers; more gets 431.
inline constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

class Dispatcher;

// What a host route did with an exchange.
enum class HostAnswer { not_mine, answered, kept };
// Requests the daemon answers itself on one listener, before any plugin
// route: health on the public listener, the admin surface on its own.
using HostRoutes = std::function<HostAnswer(Dispatcher&, Exchange&)>;

class Dispatcher {
public:
    struct Settings {
        std::size_t max_request_body;
        std::chrono::milliseconds request_timeout;
        EncodedSlashes encoded_slashes = EncodedSlashes::keep;
        std::size_t max_header_fields = 100;  // more in one request gets 431
    };

    Dispatcher(Settings settings, std::shared_ptr<spdlog::logger> logger);

    // Publishes the plugins to serve: requests that start after this call
    // see them; requests already inside an instance finish on it. Workers
    // pick the new set up with one relaxed load per request, no lock.
    // `disabled`: ids disabled in the configuration, so their 404 says so.
    // `access`: who may call which route (null: every route is public).
    void publish(const std::vector<std::shared_ptr<PluginInstance>>& plugins,
                 const std::vector<std::string>& disabled = {},
                 std::shared_ptr<const auth::AccessControl> access = nullptr);

    // Before serving. With `plugin_routes` false (the admin listener) only
    // host routes answer; otherwise they see only paths under "/." (the
    // daemon's own: /.kerberus/, /.backstage/), and the rest goes to plugins.
    void set_host_routes(HostRoutes routes, bool plugin_routes = true) {
        host_routes_ = std::move(routes);
        plugin_routes_ = plugin_routes;
    }
    // For host routes: answers at once.
    void answer(Exchange& ex, int status, std::string_view content_type, std::string_view body);
    // For host routes and the 405s and 404s of the daemon's own: answers
    // with the daemon's JSON error (`allow` fills a 405's Allow header).
    // `extra`: the Allow header of a 405, the WWW-Authenticate of a 401/403.
    bool answer_error(Exchange& ex, metrics::HostReason reason, std::string_view message, std::string_view extra = {});
    // For host routes: keeps the exchange; respond() answers it later from
    // any thread (or the request timeout does, with a 504).
    HostAnswer keep(Exchange& ex);

    // Before serving; null (the default) writes no access log.
    void set_access_log(AccessLog* log) { access_log_ = log; }
    AccessLog* access_log() const { return access_log_; }

    void set_ready(bool ready) { ready_.store(ready, std::memory_order_relaxed); }
    // Startup finished and shutdown has not begun.
    bool ready() const { return ready_.load(std::memory_order_relaxed); }
    // Draining: answers still flow, but every response closes its connection.
    void set_draining() { draining_.store(true, std::memory_order_relaxed); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    std::size_t max_request_body() const { return settings_.max_request_body; }
    std::size_t max_header_fields() const { return settings_.max_header_fields; }

    // Requests accepted and not yet answered (sync and kept).
    int64_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }

    struct Arrival {
        std::string_view remote;  // the client's address
        bool pipelined;           // more requests follow on the connection
    };

    // Server worker threads. Returns false when a plugin kept the request:
    // its answer comes later (and closes the connection if `pipelined`).
    // `body`: the request's body arrives after its head and is streamed to
    // the route (see streams_body).
    bool handle(const ParsedRequest& request, Connection to, const Arrival& arrival,
                std::shared_ptr<RequestBody> body = nullptr);
    // Whether the route `request` goes to streams its body (ABI 1.5
    // KERBERUS_ROUTE_STREAMED_BODY). Asked at the head of a request whose
    // body has not arrived whole; false when no plugin streams bodies.
    bool streams_body(const ParsedRequest& request);

    // Answers a request that could not be parsed, or did not arrive in
    // time, with `status` (its method and target when known, for the error
    // body); the connection closes.
    void reject(Connection to, int status, std::string_view message, std::string_view method = {},
                std::string_view target = {});

    // kerberus_host_api::respond.
    kerberus_status respond(Exchange& ex, int status, std::string_view body);
    // kerberus_host_api::respond_error: respond() with the host's JSON error body.
    kerberus_status respond_error(Exchange& ex, int status, std::string_view message);
    // kerberus_host_api::response_start, response_write, response_end.
    kerberus_status start_stream(Exchange& ex, int status, int64_t content_length, kerberus_stream_event_fn on_event,
                                 void* user_data);
    kerberus_status write_stream(Exchange& ex, std::string_view data);
    kerberus_status end_stream(Exchange& ex);
    kerberus_status abort_stream(Exchange& ex);
    // kerberus_host_api::request_body_stream, request_body_resume.
    kerberus_status start_body(Exchange& ex, const kerberus_body_fns& fns, void* user_data);

    KeptRequests& kept() { return kept_; }

private:
    // The answer goes out (Exchange::send) unless the exchange was answered:
    // respond()'s state handling after its checks.
    kerberus_status deliver(Exchange& ex, int status, std::string_view body);
    // A transparent hash so the hot path looks ids up by string_view.
    struct IdHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Published {
        PluginInstance* plugin;
        std::vector<bool> public_routes;  // by handler index: answers callers without credentials
        const auth::AccessControl* access;  // the snapshot's; null: every route is public
    };
    using PluginMap = std::unordered_map<std::string, Published, IdHash, std::equal_to<>>;
    struct Snapshot {
        std::vector<std::shared_ptr<PluginInstance>> owners;  // keeps the map's pointers alive
        PluginMap by_id;
        std::vector<std::string> disabled;
        bool streams_bodies = false;  // some plugin has a route with a streamed body
        std::shared_ptr<const auth::AccessControl> access;
    };
    const Snapshot& current_snapshot();
    // Valid until this thread's next current_snapshot().
    const Published* enter_plugin(std::string_view id);
    // Sets the exchange's caller for a route into `plugin`; false when it
    // was answered 401 or 403 instead.
    bool authenticate(Exchange& ex, const auth::AccessControl& access, std::string_view plugin, bool public_route);

    // Each returns false when the exchange was kept by a plugin.
    bool route(Exchange& ex, bool pipelined);
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
    HostRoutes host_routes_;
    bool plugin_routes_ = true;
    AccessLog* access_log_ = nullptr;
};

}  // namespace kerberus::http
