// Host names for the plain-http engines: looked up with getaddrinfo() on
// threads of the resolver's own, never on an engine's or a server worker's,
// and kept for a minute, as libcurl keeps them (CURLOPT_DNS_CACHE_TIMEOUT).
// Lookups of one name at the same time are made once.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kerberus::outbound {

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

struct Resolved {
    std::vector<Address> addresses;  // in getaddrinfo's order; empty on failure
    std::string error;               // why not, when empty
};

class Resolver {
public:
    using Clock = std::chrono::steady_clock;
    using Done = std::function<void(const Resolved&)>;
    static constexpr std::chrono::seconds kKeep{60};
    static constexpr std::size_t kThreads = 2;

    Resolver();
    ~Resolver();  // shutdown()
    // Joins the threads. Lookups not answered yet, and any asked for from
    // now on, are dropped: their `done` never runs (the client cancels the
    // requests that wait for them).
    void shutdown();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // A fresh cached answer: true, and `out` filled. Otherwise false, and
    // `done` runs later on a resolver thread with the answer.
    bool lookup(const std::string& host, uint16_t port, Resolved& out, Done done);

private:
    using Key = std::pair<std::string, uint16_t>;
    struct Entry {
        Resolved answer;
        Clock::time_point until;
    };
    void run();
    static Resolved resolve(const Key& key);

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::deque<Key> queue_;
    std::map<Key, std::vector<Done>> waiting_;  // lookups queued or running
    std::map<Key, Entry> cache_;
    std::vector<std::thread> threads_;
};

}  // namespace kerberus::outbound
