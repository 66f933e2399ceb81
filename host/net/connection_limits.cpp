#include "net/connection_limits.h"

namespace kerberus::net {

ConnectionLimits::Admission ConnectionLimits::admit(const std::string& remote) {
    if (max_total_ != 0 && open_.fetch_add(1, std::memory_order_relaxed) >= max_total_) {
        open_.fetch_sub(1, std::memory_order_relaxed);
        return Admission::over_total;
    }
    if (max_total_ == 0) open_.fetch_add(1, std::memory_order_relaxed);
    if (max_per_client_ == 0) return Admission::admitted;
    std::lock_guard lock(mutex_);
    std::size_t& mine = by_client_[remote];
    if (mine >= max_per_client_) {
        if (mine == 0) by_client_.erase(remote);
        open_.fetch_sub(1, std::memory_order_relaxed);
        return Admission::over_per_client;
    }
    ++mine;
    return Admission::admitted;
}

void ConnectionLimits::release(const std::string& remote) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    if (max_per_client_ == 0) return;
    std::lock_guard lock(mutex_);
    auto it = by_client_.find(remote);
    if (it == by_client_.end()) return;
    if (--it->second == 0) by_client_.erase(it);
}

namespace {

// The daemon's JSON error shape (http/error_body.h), made here once:
// nothing about the request is known yet.
std::string answer(std::string_view status_line, std::string_view name, std::string_view message, int code) {
    const std::string body = "{\"error\":{\"name\":\"" + std::string(name) + "\",\"message\":\"" +
                             std::string(message) + "\"},\"response\":{\"statusCode\":" + std::to_string(code) +
                             "}}\n";
    return std::string(status_line) +
           "\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

std::string_view refusal(ConnectionLimits::Admission admission) {
    static const std::string too_many_in_all =
        answer("HTTP/1.1 503 Service Unavailable", "ServiceUnavailableError",
               "too many connections (server.max_connections)", 503);
    static const std::string too_many_from_you =
        answer("HTTP/1.1 429 Too Many Requests", "TooManyRequestsError",
               "too many connections from this address (server.max_connections_per_client)", 429);
    return admission == ConnectionLimits::Admission::over_per_client ? too_many_from_you : too_many_in_all;
}

}  // namespace kerberus::net
