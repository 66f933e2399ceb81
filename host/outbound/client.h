// The daemon's one outbound HTTP client: libcurl's multi interface on a
// thread of its own, shared by every plugin (the proxy first of all).
// Connections are pooled per host; nothing here ever blocks a caller on the
// network: send() queues, the client thread does the I/O and calls back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/logger.h>

#include "kerberus/plugin.h"

namespace kerberus::outbound {

struct Settings {
    long max_connections_per_host = 32;  // beyond this, requests queue for a pooled connection
    long max_cached_connections = 256;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{30'000};
    uint64_t max_response_bytes = 64ull * 1024 * 1024;
};

class Client {
public:
    // Whoever a request belongs to (a plugin instance): cancel_owner() ends
    // all of one owner's requests at once.
    using Owner = const void*;

    Client(Settings settings, std::shared_ptr<spdlog::logger> logger);
    ~Client();  // cancels whatever is left (callbacks run) and joins
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Validates and copies the request, then queues it. On KERBERUS_OK,
    // `done` runs exactly once, later, on the client thread.
    kerberus_status send(Owner owner, const kerberus_outbound_request& request, kerberus_outbound_done_fn done,
                         void* user_data, uint64_t* id);
    // NOT_FOUND once the request completed.
    kerberus_status cancel(Owner owner, uint64_t id);
    // Cancels every request of `owner` and returns once all their callbacks
    // have run. Never call it from a callback.
    void cancel_owner(Owner owner);

private:
    struct Transfer;
    void run();
    void start(std::unique_ptr<Transfer> t);
    void finish(Transfer* t, kerberus_status result, const char* error);
    void finish_done_transfers();
    void apply_cancels();

    Settings settings_;
    std::shared_ptr<spdlog::logger> logger_;
    void* multi_ = nullptr;  // CURLM*

    std::mutex mutex_;
    std::condition_variable idle_;             // signalled whenever a transfer finishes
    std::deque<std::unique_ptr<Transfer>> incoming_;
    std::unordered_set<uint64_t> cancel_requests_;
    std::unordered_map<uint64_t, Owner> live_;  // queued or running, by id
    uint64_t next_id_ = 1;
    bool stopping_ = false;

    // Client thread only.
    std::unordered_map<uint64_t, std::unique_ptr<Transfer>> running_;
    std::thread thread_;
};

}  // namespace kerberus::outbound
