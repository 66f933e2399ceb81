// One plugin as the daemon runs it: the file it came from, its namespace,
// logger, routes and lifecycle. It is also the kerberus_plugin_ctx handed to
// the plugin, so a host function gets from the plugin's handle to its state
// with a static_cast and no lookup.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "config/config.h"
#include "config/plugin_namespace.h"
#include "http/route_table.h"
#include "kerberus/plugin.h"
#include "metrics/registry.h"
#include "plugins/plugin_file.h"

struct kerberus_plugin_ctx {};

namespace kerberus {

// The last answer of a plugin's health callback (see health/health_monitor.h).
struct PluginHealth {
    enum class Status { unknown, healthy, unhealthy };
    Status status = Status::unknown;  // unknown: not checked yet, or no callback
    std::string message;              // set_error() text when unhealthy
    std::chrono::system_clock::time_point checked_at{};
};

enum class PluginState {
    loaded,    // opened and checked, not initialised (--check)
    running,   // init succeeded, serving
    failed,    // could not be found, loaded or initialised: routes answer 503
    stopped,   // stop() ran: routes answer 503
};
const char* to_string(PluginState s);

struct RouteHandler {
    kerberus_handler_fn fn;
    void* user_data;
    std::string method;
    std::string pattern;
    std::string summary;          // route_describe (ABI 1.3); empty when none
    uint32_t flags;               // route_set_flags (ABI 1.5): KERBERUS_ROUTE_*
    metrics::RouteStats* stats;   // kept by the metrics registry for the process's life
};

class PluginInstance : public kerberus_plugin_ctx {
public:
    // A plugin whose file was found and checked.
    PluginInstance(PluginFile file, config::PluginSettings settings, std::shared_ptr<spdlog::logger> logger);
    // A configured plugin that has no usable file: it exists only to answer
    // 503 under its prefix and to show in --check with its error.
    PluginInstance(std::string id, config::PluginSettings settings, std::shared_ptr<spdlog::logger> logger,
                   std::string error);
    ~PluginInstance();
    PluginInstance(const PluginInstance&) = delete;
    PluginInstance& operator=(const PluginInstance&) = delete;

    static PluginInstance& from(kerberus_plugin_ctx* ctx) { return *static_cast<PluginInstance*>(ctx); }

    const std::string& id() const { return id_; }
    bool has_file() const { return file_.descriptor != nullptr; }
    const PluginFile& file() const { return file_; }
    const config::PluginSettings& settings() const { return settings_; }
    const config::PluginNamespace& config() const { return namespace_; }
    spdlog::logger& logger() const { return *logger_; }
    PluginState state() const { return state_; }
    const std::string& error() const { return error_; }

    // Lifecycle, main thread only. init() registers routes through the host
    // API and leaves the instance running or failed; stop() and destroy()
    // are safe to call in any state and at most once each take effect.
    void init(const kerberus_host_api* api);
    void stop();
    void destroy();

    // From here on the plugin may start no new background work (outbound
    // requests); called before its in-flight work is cancelled and stop runs.
    void refuse_new_work() { accepting_work_.store(false, std::memory_order_release); }
    // Outbound requests are allowed from init until refuse_new_work(). Any thread.
    bool accepts_work() const { return accepting_work_.load(std::memory_order_acquire); }

    // Host API backing (route_add, set_error).
    kerberus_status add_route(const char* method, const char* pattern, kerberus_handler_fn fn, void* user_data);
    kerberus_status describe_route(const char* method, const char* pattern, std::string_view summary);
    kerberus_status set_route_flags(const char* method, const char* pattern, uint32_t flags);
    // Whether any route streams its body: only then does a connection stop
    // at a request's head to ask (see RequestParser::ask_before_body).
    bool streams_bodies() const { return streams_bodies_; }
    kerberus_status add_metric_family(const kerberus_metric_spec& spec, kerberus_metric_family** out);
    // Which instance of this plugin id this is in the process (1, 2, ...
    // one more per reload that replaced it), and when it was made.
    uint64_t generation() const { return generation_; }
    std::chrono::system_clock::time_point loaded_at() const { return loaded_at_; }

    // Health, main thread: whether a callback exists. Health thread: calls
    // it. Any thread: the last result (set by the health monitor).
    bool has_health_check() const { return file_.descriptor != nullptr && file_.descriptor->health != nullptr; }
    // `message` gets what the plugin passed to set_error() during the call.
    kerberus_status call_health(std::string& message);
    PluginHealth health() const;
    void set_health(PluginHealth health);

    // Host answers given for this plugin's requests, by reason.
    metrics::HostErrors& host_errors() const { return *host_errors_; }
    // During a health call on its thread, the health message; else the
    // lifecycle error (init).
    void set_error(std::string message);

    // True if `file` and `settings` would give an instance equal to this one
    // (same file contents, same policy and pin, same namespace); the log
    // level is not part of it, it changes in place.
    bool same_as(const PluginFile& file, const config::PluginSettings& settings) const;

    // Requests inside this instance (handler running or request kept). A
    // worker enters before calling a handler and leaves once the request is
    // answered; retire() makes enter() fail from then on, so after retire()
    // the count only falls and reaching 0 means the instance is idle for
    // good. Both sides use seq_cst: enter increments then checks the flag,
    // retire sets the flag then the reloader reads the count.
    bool enter() {
        in_flight_.fetch_add(1);
        if (routable_.load()) return true;
        in_flight_.fetch_sub(1);
        return false;
    }
    void leave() { in_flight_.fetch_sub(1); }
    void retire() { routable_.store(false); }
    int64_t in_flight() const { return in_flight_.load(); }

    // The request path: read by every worker, written only during init.
    const http::RouteTable& routes() const { return routes_; }
    const RouteHandler& handler(std::size_t index) const { return handlers_[index]; }
    std::size_t route_count() const { return handlers_.size(); }

private:
    std::string id_;
    PluginFile file_;
    config::PluginSettings settings_;
    config::PluginNamespace namespace_;
    std::shared_ptr<spdlog::logger> logger_;
    PluginState state_ = PluginState::loaded;
    std::string error_;
    void* instance_ = nullptr;
    bool initialising_ = false;
    bool streams_bodies_ = false;  // some route has KERBERUS_ROUTE_STREAMED_BODY
    std::atomic<bool> accepting_work_{false};
    std::atomic<int64_t> in_flight_{0};
    std::atomic<bool> routable_{true};
    bool stopped_ = false;
    bool destroyed_ = false;
    http::RouteTable routes_;
    std::vector<RouteHandler> handlers_;
    metrics::HostErrors* host_errors_;
    uint64_t generation_;
    std::chrono::system_clock::time_point loaded_at_ = std::chrono::system_clock::now();
    mutable std::mutex health_mutex_;
    PluginHealth health_;
    std::string* health_message_ = nullptr;  // health thread only: set_error() during a call
};

}  // namespace kerberus
