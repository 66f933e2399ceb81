// Requests a plugin kept (handler returned KERBERUS_ASYNC): who answers
// them, and when they are freed.
//
// A kept exchange is answered exactly once — by the plugin's respond(), by
// the deadline (504) or by the plugin's stop (503) — and freed exactly once:
// by respond() (the plugin's last touch), or by forget_plugin() after stop
// when the plugin will never call respond(). One mutex guards the whole
// async side; the synchronous request path never takes it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "http/exchange.h"

namespace kerberus::http {

class KeptRequests {
public:
    // `on_answered` runs after every answer the host or a plugin sends for a
    // kept exchange (in-flight accounting).
    // `request_timeout`: how long after a streamed request body's end its
    // answer may take (the deadline moves while the body arrives).
    KeptRequests(std::function<void(Exchange&)> on_answered, std::chrono::milliseconds request_timeout);
    ~KeptRequests();
    KeptRequests(const KeptRequests&) = delete;
    KeptRequests& operator=(const KeptRequests&) = delete;

    // Called by the handler's thread when the handler returned ASYNC. Takes
    // ownership of `ex` unless the plugin already answered from another
    // thread (returns false: the caller still owns it). `close_connection`:
    // requests are pipelined behind this one and will not be read, so its
    // answer must close the connection (the client then retries them).
    bool keep(Exchange* ex, std::chrono::steady_clock::time_point deadline, bool close_connection);

    // The plugin's respond() on an exchange that is not in `handling`.
    // Returns the status for respond(): OK (sent), EXPIRED (host answered).
    // Frees `ex` in both cases.
    kerberus_status respond_kept(Exchange* ex, int status, std::string_view body);

    // The plugin's response_start: marks `ex` streaming (no deadline from
    // now on; a kept one loses its own) when it is still unanswered.
    // Returns OK, STATE (answered or started already) or EXPIRED.
    kerberus_status begin_stream(Exchange* ex);

    // After the plugin's stop: answer its kept requests with 503 and free
    // every exchange it still holds.
    void forget_plugin(const kerberus::PluginInstance* plugin);

    // Answers every kept request with 503 (shutdown past its deadline).
    void expire_all(std::string_view message);  // 503, shutting down

    // The server is gone: from now on nothing is sent, exchanges are only
    // marked answered and freed.
    void close();


private:
    void run_deadlines();
    void expire_locked(Exchange* ex, metrics::HostReason reason, std::string_view message);
    void forget_deadline_locked(Exchange* ex);

    std::function<void(Exchange&)> on_answered_;
    const std::chrono::milliseconds request_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool closed_ = false;
    std::multimap<std::chrono::steady_clock::time_point, Exchange*> deadlines_;
    std::unordered_set<Exchange*> held_;  // kept or expired, not yet freed
    std::thread timer_;
};

}  // namespace kerberus::http
