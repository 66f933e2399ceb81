// The listening socket and the thread that accepts connections on it.
//
// At the open-file limit accept() fails while the connection stays queued,
// so a listener that simply retries spins a core until a descriptor frees.
// This one stops watching the socket, says so once, and starts again when a
// connection closes (or, for descriptors freed elsewhere, a second later).
// Clients wait in the kernel's backlog meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/logger.h>

namespace kerberus::net {

class Listener {
public:
    // Called on the accepting thread with a connected, non-blocking socket
    // (which it then owns) and the client's address as text.
    using Accept = std::function<void(int fd, std::string remote)>;

    // Binds and listens on `host`:`port`, or on a Unix socket at
    // `unix_path` when it is not empty (a stale socket file there is
    // replaced). Throws std::runtime_error with the reason when it cannot.
    Listener(const std::string& host, uint16_t port, const std::string& unix_path,
             std::shared_ptr<spdlog::logger> log);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    uint16_t port() const { return port_; }

    void start(Accept accept);
    // Closes the listening socket: new connections are refused from here on.
    void stop();
    // Any thread: a descriptor was closed. Cheap unless accepting is paused.
    void descriptor_freed();

private:
    void run();
    void accept_ready();
    void pause(int error);
    void resume();
    // The backlog is empty: ends an episode at the limit.
    void caught_up();

    std::shared_ptr<spdlog::logger> log_;
    Accept accept_;
    int fd_ = -1;
    std::string unix_path_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> paused_{false};

    // Accepting thread only. An episode at the limit lasts from the first
    // failed accept until the backlog is empty again.
    bool limited_ = false;
    std::chrono::steady_clock::time_point limited_since_;
    std::chrono::steady_clock::time_point last_warning_;
    unsigned unreported_ = 0;  // episodes since the last warning
};

}  // namespace kerberus::net
