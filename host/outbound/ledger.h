// What the outbound client and its two engines (libcurl for https and host
// names, the plain-http loop for IP literals) share: which requests are in
// flight and whose, which were asked to stop, and whether the client is
// shutting down. One mutex guards it, and also each engine's queue of new
// requests, so a cancel can never slip between "admitted" and "queued".
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "outbound/upload.h"

namespace kerberus::outbound {

struct Ledger {
    using Owner = const void*;

    std::mutex mutex;
    std::condition_variable idle;  // signalled whenever a request finished
    std::unordered_map<uint64_t, Owner> live;  // queued or running, by id
    std::unordered_set<uint64_t> cancels;      // asked to stop, not yet finished
    std::unordered_set<uint64_t> resumes;      // streams asked to go on after a pause
    std::unordered_map<uint64_t, std::shared_ptr<Upload>> uploads;  // streamed request bodies
    std::unordered_set<uint64_t> body_ready;   // uploads with bytes waiting that the engine may not know of
    uint64_t next_id = 1;
    bool stopping = false;

    // max_connections_per_host across every plain-http engine (the
    // client's and each worker's): connections open or opening per
    // authority, and how many exchanges wait for one.
    struct HostBudget {
        std::size_t open = 0;
        std::size_t waiting = 0;
    };
    std::unordered_map<std::string, HostBudget> hosts;
    // The sum of hosts' `waiting`, readable without the mutex: while it is
    // 0 (the usual case) an engine keeps idle connections without asking.
    std::atomic<std::size_t> any_waiting{0};
    // Wakes every engine (set by the client): a connection closed where
    // another engine has requests waiting for one.
    std::function<void()> wake_all;

    // Under `mutex`: gives the request an id and records it; false once stopping.
    bool admit_locked(Owner owner, uint64_t& id) {
        if (stopping) return false;
        id = next_id++;
        live.emplace(id, owner);
        return true;
    }

    // After the request's callback returned: cancel_owner() may stop waiting.
    void finished(uint64_t id) {
        std::shared_ptr<Upload> upload;
        {
            std::lock_guard lock(mutex);
            live.erase(id);
            if (!cancels.empty()) cancels.erase(id);
            if (!resumes.empty()) resumes.erase(id);
            if (!uploads.empty()) {
                if (auto it = uploads.find(id); it != uploads.end()) {
                    upload = std::move(it->second);
                    uploads.erase(it);
                    body_ready.erase(id);
                }
            }
        }
        if (upload) upload->close();
        idle.notify_all();
    }
};

}  // namespace kerberus::outbound
