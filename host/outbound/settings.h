#pragma once

#include <chrono>
#include <cstdint>

namespace kerberus::outbound {

struct Settings {
    long max_connections_per_host = 32;  // beyond this, requests queue for a pooled connection
    long max_cached_connections = 256;   // idle keep-alive connections kept, all hosts together
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{30'000};
    // An idle pooled connection is closed after this (plain-http engine;
    // libcurl keeps its own rules).
    std::chrono::milliseconds idle_timeout{30'000};
    uint64_t max_response_bytes = 64ull * 1024 * 1024;
};

}  // namespace kerberus::outbound
