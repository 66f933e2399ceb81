// What the daemon counts of the HTTP traffic it serves: per plugin route
// (pattern, never the raw path, so label sets stay bounded) and the errors
// the host answers itself, by reason.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/cells.h"

namespace kerberus::metrics {

// The methods the request parser lets through (others get 501), indexed.
inline constexpr std::array<std::string_view, 9> kMethods = {"GET",     "HEAD",    "POST",  "PUT",    "DELETE",
                                                             "PATCH",   "OPTIONS", "TRACE", "CONNECT"};
int method_index(std::string_view method);

// Why the host answered a request itself rather than a plugin. Each has
// one status code.
enum class HostReason : uint8_t {
    bad_request,            // 400: the request could not be parsed
    invalid_path,           // 400: dot segments, encoded slashes, ...
    request_timeout,        // 408: the request did not arrive in time
    body_too_large,         // 413
    head_too_large,         // 431
    not_implemented,        // 501: method or transfer coding
    version_not_supported,  // 505
    no_plugin,              // 404
    no_route,               // 404
    method_not_allowed,     // 405
    plugin_unavailable,     // 503: failed or stopped instance
    handler_failed,         // 500
    answer_timeout,         // 504: a kept request past server.request_timeout
    plugin_stopped,         // 503: kept when the plugin stopped
    shutting_down,          // 503: kept past server.shutdown_timeout
    unauthenticated,        // 401: no valid credentials for a route that needs them
    forbidden,              // 403: a valid token restricted to other plugins
    count_
};
inline constexpr std::size_t kHostReasons = static_cast<std::size_t>(HostReason::count_);
std::string_view reason_name(HostReason reason);
int reason_status(HostReason reason);
// The reason for a status the request parser refused with.
HostReason parse_failure_reason(int status);

// Counts of host answers by reason, for one plugin (or none).
class HostErrors {
public:
    void add(HostReason reason) { counts_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed); }
    uint64_t count(HostReason reason) const {
        return counts_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<uint64_t>, kHostReasons> counts_{};
};

// One route of one plugin. Kept by the registry for the daemon's life, so
// the counts go on across reloads of the plugin.
class RouteStats {
public:
    RouteStats(std::string plugin, std::string method, std::string pattern)
        : plugin(std::move(plugin)), method(std::move(method)), pattern(std::move(pattern)) {}

    // A request reached the route's handler.
    void started() { started_.fetch_add(1, std::memory_order_relaxed); }
    // Its answer went out (whoever gave it).
    void answered(int method, int status, uint64_t request_bytes, uint64_t response_bytes, uint64_t nanoseconds);

    // For a scrape: f(method name, status, count) per combination seen;
    // status 0 collects what did not fit in the table.
    template <typename F>
    void for_each_count(F&& f) const {
        for (const Slot& slot : slots_) {
            uint32_t key = slot.key.load(std::memory_order_acquire);
            if (key == 0) continue;
            --key;
            f(kMethods[key >> 10], static_cast<int>(key & 0x3ff), slot.count.load(std::memory_order_relaxed));
        }
        if (uint64_t n = overflow_.load(std::memory_order_relaxed)) f(std::string_view("other"), 0, n);
    }
    uint64_t answered_total() const;
    int64_t in_flight() const { return static_cast<int64_t>(started_.load(std::memory_order_relaxed) - answered_total()); }
    uint64_t request_bytes() const { return request_bytes_.load(std::memory_order_relaxed); }
    uint64_t response_bytes() const { return response_bytes_.load(std::memory_order_relaxed); }
    const DurationHistogram& duration() const { return duration_; }

    const std::string plugin;
    const std::string method;   // as registered: "GET", "*"
    const std::string pattern;  // "/items/:id"

private:
    // (method, status) -> count in an open-addressed table a writer claims
    // slots of with one compare-and-swap; a route sees a handful.
    struct Slot {
        std::atomic<uint32_t> key{0};  // (method << 10 | status) + 1; 0 = free
        std::atomic<uint64_t> count{0};
    };
    static constexpr std::size_t kSlots = 64;
    Slot slots_[kSlots];
    std::atomic<uint64_t> overflow_{0};
    std::atomic<uint64_t> started_{0};
    std::atomic<uint64_t> request_bytes_{0};
    std::atomic<uint64_t> response_bytes_{0};
    DurationHistogram duration_;
};

}  // namespace kerberus::metrics
