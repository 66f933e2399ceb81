#include "metrics/http_stats.h"

namespace kerberus::metrics {

int method_index(std::string_view method) {
    for (std::size_t i = 0; i < kMethods.size(); ++i) {
        if (kMethods[i] == method) return static_cast<int>(i);
    }
    return -1;
}

std::string_view reason_name(HostReason reason) {
    switch (reason) {
        case HostReason::bad_request: return "bad_request";
        case HostReason::invalid_path: return "invalid_path";
        case HostReason::request_timeout: return "request_timeout";
        case HostReason::body_too_large: return "body_too_large";
        case HostReason::head_too_large: return "head_too_large";
        case HostReason::not_implemented: return "not_implemented";
        case HostReason::version_not_supported: return "version_not_supported";
        case HostReason::no_plugin: return "no_plugin";
        case HostReason::no_route: return "no_route";
        case HostReason::method_not_allowed: return "method_not_allowed";
        case HostReason::plugin_unavailable: return "plugin_unavailable";
        case HostReason::handler_failed: return "handler_failed";
        case HostReason::answer_timeout: return "answer_timeout";
        case HostReason::plugin_stopped: return "plugin_stopped";
        case HostReason::shutting_down: return "shutting_down";
        case HostReason::unauthenticated: return "unauthenticated";
        case HostReason::forbidden: return "forbidden";
        case HostReason::count_: break;
    }
    return "unknown";
}

int reason_status(HostReason reason) {
    switch (reason) {
        case HostReason::bad_request:
        case HostReason::invalid_path: return 400;
        case HostReason::request_timeout: return 408;
        case HostReason::body_too_large: return 413;
        case HostReason::head_too_large: return 431;
        case HostReason::not_implemented: return 501;
        case HostReason::version_not_supported: return 505;
        case HostReason::no_plugin:
        case HostReason::no_route: return 404;
        case HostReason::method_not_allowed: return 405;
        case HostReason::handler_failed: return 500;
        case HostReason::answer_timeout: return 504;
        case HostReason::unauthenticated: return 401;
        case HostReason::forbidden: return 403;
        case HostReason::plugin_unavailable:
        case HostReason::plugin_stopped:
        case HostReason::shutting_down:
        case HostReason::count_: break;
    }
    return 503;
}

HostReason parse_failure_reason(int status) {
    switch (status) {
        case 408: return HostReason::request_timeout;
        case 413: return HostReason::body_too_large;
        case 431: return HostReason::head_too_large;
        case 501: return HostReason::not_implemented;
        case 505: return HostReason::version_not_supported;
        default: return HostReason::bad_request;
    }
}

void RouteStats::answered(int method, int status, uint64_t request_bytes, uint64_t response_bytes,
                          uint64_t nanoseconds) {
    request_bytes_.fetch_add(request_bytes, std::memory_order_relaxed);
    response_bytes_.fetch_add(response_bytes, std::memory_order_relaxed);
    duration_.observe(nanoseconds);
    uint32_t key = (static_cast<uint32_t>(method < 0 ? 0 : method) << 10 | static_cast<uint32_t>(status & 0x3ff)) + 1;
    std::size_t start = (key * 2654435761u) % kSlots;
    for (std::size_t i = 0; i < kSlots; ++i) {
        Slot& slot = slots_[(start + i) % kSlots];
        uint32_t seen = slot.key.load(std::memory_order_acquire);
        if (seen == 0) {
            if (slot.key.compare_exchange_strong(seen, key, std::memory_order_acq_rel) || seen == key) {
                slot.count.fetch_add(1, std::memory_order_relaxed);
                return;
            }
        }
        if (seen == key) {
            slot.count.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    overflow_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t RouteStats::answered_total() const {
    uint64_t n = overflow_.load(std::memory_order_relaxed);
    for (const Slot& slot : slots_) n += slot.count.load(std::memory_order_relaxed);
    return n;
}

const std::vector<double>& DurationHistogram::bounds_seconds() {
    static const std::vector<double> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    return bounds;
}

}  // namespace kerberus::metrics
