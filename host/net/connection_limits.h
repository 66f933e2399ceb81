// How many client connections the daemon holds open, in all and from one
// client address (server.max_connections, server.max_connections_per_client):
// a flood of connections, or one client opening thousands, must not take
// the descriptors and memory every other client needs. Checked by the
// accepting thread before a connection reaches a worker; released by the
// worker that closes it.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kerberus::net {

class ConnectionLimits {
public:
    enum class Admission { admitted, over_total, over_per_client };

    // 0: no limit of that kind.
    ConnectionLimits(std::size_t max_total, std::size_t max_per_client)
        : max_total_(max_total), max_per_client_(max_per_client) {}

    // Counts a new connection from `remote` unless it would pass a limit.
    // Any thread.
    Admission admit(const std::string& remote);
    // A connection admit() counted has closed. Any thread.
    void release(const std::string& remote);

    std::size_t open() const { return open_.load(std::memory_order_relaxed); }
    std::size_t max_total() const { return max_total_; }
    std::size_t max_per_client() const { return max_per_client_; }

private:
    const std::size_t max_total_;
    const std::size_t max_per_client_;
    std::atomic<std::size_t> open_{0};
    std::mutex mutex_;                                   // per-client counts, only with a per-client limit
    std::unordered_map<std::string, std::size_t> by_client_;
};

// The whole answer sent to a connection refused at admission, before its
// request is read: 503 (too many in all) or 429 (too many from this
// client), Connection: close, Retry-After, and the daemon's JSON error.
std::string_view refusal(ConnectionLimits::Admission admission);

}  // namespace kerberus::net
