// The connections of one server thread: their reads, writes that the socket
// could not take at once, timeouts and closing. Runs as a handler on
// Pistache's reactor, which gives each worker thread its own epoll set.
//
// Timeouts cost O(1) per request: every connection sits in the list of its
// phase, and since all connections in a list have the same timeout, a list
// kept in arrival order is also in deadline order. A tick a few times a
// second closes what expired from the list heads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pistache/os.h>
#include <pistache/reactor.h>

#include "net/connection.h"

namespace kerberus::tls {
class Acceptor;
}

namespace kerberus::net {

// Work of another kind that shares a worker's thread and event loop: the
// outbound client's engine, so that a proxied request is answered on the
// thread that read it, with no hand-over between threads.
class Sidecar {
public:
    virtual ~Sidecar() = default;
    // Readable whenever the sidecar has events to handle.
    virtual int descriptor() const = 0;
    // Once, on the worker's thread, before anything else of it runs there.
    virtual void on_thread() = 0;
    // On the worker's thread: descriptor() is readable.
    virtual void on_ready() = 0;
    // On the worker's thread, after every batch of events and every tick:
    // work queued during the batch starts here, deadlines are checked.
    virtual void after_batch() = 0;
    // True while the sidecar needs ticks (deadlines, idle connections).
    virtual bool needs_tick() const = 0;
    // The worker's thread has ended: the sidecar carries on by itself.
    virtual void orphaned() = 0;
};
using SidecarFactory = std::function<std::unique_ptr<Sidecar>()>;

struct Timeouts {
    std::chrono::milliseconds idle;     // no request in progress (keep-alive)
    std::chrono::milliseconds request;  // first byte of a request to its last
    std::chrono::milliseconds linger;   // reading what follows the last answer
    std::chrono::milliseconds body;     // silence within a streamed request body
};

class Worker : public Pistache::Aio::Handler {
public:
    using ProtocolFactory = std::function<std::unique_ptr<Protocol>(Connection&)>;

    // `descriptor_freed` runs (on this worker's thread) after each
    // connection's descriptor is closed, with the connection's client address.
    // `sidecar` (may be empty) makes one Sidecar per worker thread.
    // `tls` (may be null) puts TLS on every connection: the handshake must
    // finish within timeouts.request, and the protocol sees plaintext only.
    using DescriptorFreed = std::function<void(const std::string& remote)>;
    Worker(Timeouts timeouts, ProtocolFactory factory, DescriptorFreed descriptor_freed, SidecarFactory sidecar = {},
           std::shared_ptr<const tls::Acceptor> tls = {});
    ~Worker() override;

    // Any thread: `fd` (a connected, non-blocking socket) becomes one of
    // this worker's connections.
    void adopt(int fd, std::string remote);
    // Any thread: runs `task` on this worker's thread.
    void post(std::function<void()> task);

    // Pistache::Aio::Handler.
    void registerPoller(Pistache::Polling::Epoll& poller) override;
    void onReady(const Pistache::Aio::FdSet& fds) override;
    std::shared_ptr<Pistache::Aio::Handler> clone() const override;

private:
    friend class Connection;
    using Clock = std::chrono::steady_clock;

    struct List {
        Connection* head = nullptr;
        Connection* tail = nullptr;
    };

    // Connection's side (see connection.h): called with its write mutex held.
    void set_interest(Connection& c, bool read, bool write);
    void schedule_finish(Connection& c);

    void on_event(Connection& c, bool readable, bool writable, bool hangup);
    void on_readable(Connection& c);
    void on_tls_input(Connection& c, std::string_view cipher);
    void on_writable(Connection& c);
    void on_end_of_input(Connection& c);
    // The last answer is out: drain the input, then close.
    void finish(Connection& c);
    void close_now(Connection& c);
    void run_mailbox();
    void expire_deadlines();
    void expire(Connection& c);

    // Timeout lists (see connection.h Phase).
    void enter_phase(Connection& c, Phase phase, bool restart = false);
    List& list_for(Phase phase);
    std::chrono::milliseconds timeout_for(Phase phase) const;
    void unlink(Connection& c);
    void append(Connection& c, Phase phase);
    void set_ticking(bool on);

    void start_sidecar();
    bool wants_tick() const { return !connections_.empty() || (sidecar_ && sidecar_->needs_tick()); }

    Timeouts timeouts_;
    ProtocolFactory factory_;
    DescriptorFreed descriptor_freed_;
    SidecarFactory sidecar_factory_;
    std::shared_ptr<const tls::Acceptor> tls_;
    std::unique_ptr<Sidecar> sidecar_;  // made on the worker's thread

    Pistache::Polling::Epoll* poller_ = nullptr;
    int wake_fd_ = -1;   // eventfd: the mailbox has tasks
    int timer_fd_ = -1;  // timerfd: the deadline tick
    bool ticking_ = false;

    std::mutex mailbox_mutex_;
    std::vector<std::function<void()>> mailbox_;
    bool stopped_ = false;  // under mailbox_mutex_

    // This worker's thread only.
    Clock::time_point now_;  // read once per batch of events: deadlines need no finer clock
    std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
    std::vector<std::shared_ptr<Connection>> to_finish_;
    std::vector<std::shared_ptr<Connection>> closed_;  // freed once this batch of events is handled
    List lists_[4];  // one per Phase
    std::unique_ptr<char[]> read_buffer_;
    std::string tls_plain_;  // what one read of a TLS connection decrypted to
};

}  // namespace kerberus::net
