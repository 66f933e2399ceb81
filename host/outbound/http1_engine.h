// The outbound engine for plain http:// to IP literals: an epoll loop on a
// thread of its own, non-blocking sockets and a keep-alive pool per
// address. It exists because libcurl's per-transfer work was most of a
// proxied request's cost; it does only what HTTP/1.1 to an upstream needs.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kerberus/plugin.h"
#include "outbound/deadline_heap.h"
#include "outbound/ledger.h"
#include "outbound/plain_request.h"
#include "outbound/resolver.h"
#include "outbound/settings.h"
#include "outbound/upload.h"

namespace kerberus::outbound {

class Http1Engine {
public:
    // `embedded`: no thread of its own; a worker thread drives it (see
    // Worker's Sidecar) until orphaned() hands it a thread.
    // `resolver` looks host names up (it outlives the engine).
    Http1Engine(const Settings& settings, Ledger& ledger, Resolver& resolver, bool embedded = false);
    // Returns once the ledger says stopping and every request it took has
    // finished (the client cancels them first); closes every connection.
    ~Http1Engine();

    // The embedded engine driven by the calling thread, if any: requests
    // made on a worker go to that worker's own engine.
    static Http1Engine* current();

    // --- embedded: the driving thread only ------------------------------
    // Becomes current() on the calling thread.
    void attach_to_this_thread();
    // Readable when there are events (upstream sockets, wake-ups).
    int poll_descriptor() const { return epoll_fd_; }
    // Handles what is ready, without waiting.
    void poll();
    // Starts what was queued on this thread; checks deadlines.
    void after_batch();
    bool needs_tick() const { return running_count_ > 0 || idle_count_ > 0; }
    // The driving thread is gone: from now on a thread of its own runs it.
    void orphaned();
    Http1Engine(const Http1Engine&) = delete;
    Http1Engine& operator=(const Http1Engine&) = delete;

    // Takes a validated request whose URL parse_plain_url accepted.
    // `stream` (may be null): deliver the answer as it arrives.
    kerberus_status send(Ledger::Owner owner, const kerberus_outbound_request& request, const PlainUrl& url,
                         kerberus_outbound_done_fn done, void* user_data, uint64_t* id,
                         const kerberus_outbound_stream_fns* stream, std::shared_ptr<Upload> upload);
    // Makes the loop look at the ledger's cancels and at stopping.
    void wake();

private:
    using Clock = std::chrono::steady_clock;
    struct Exchange;
    struct Connection;
    struct Pool;

    void run();
    // One round: handles `n` ready events, then deadlines and idle connections.
    void handle(const ::epoll_event* events, int n);
    void take_incoming();
    void start(Exchange* ex);
    void dispatch(Exchange* ex);
    void open_connection(Pool* pool, Exchange* ex);
    static int connect_to(const Address& a, std::string& error);
    bool connect_next(Connection* c, std::string& error);
    // Host names: starts a lookup for the pool; applies its answer.
    void resolve(Pool* pool);
    void resolved(Pool* pool, const Resolved& answer);
    void attach(Connection* c, Exchange* ex);
    void on_event(Connection* c, uint32_t events);
    void write_some(Connection* c);
    // The streamed request body after the head (may end the exchange).
    void write_body(Connection* c);
    void read_some(Connection* c);
    // A streamed exchange: hands the head and the body received so far to
    // the plugin; false when it asked to pause.
    bool deliver(Connection* c);
    void set_read_interest(Connection* c, bool want);
    void resume(Exchange* ex);
    void complete(Connection* c, bool leftover);
    // The connection died before any response byte on a reused connection:
    // the server closed it while idle, so send once more on a fresh one.
    bool retry_on_fresh(Connection* c);
    void release(Connection* c);
    void close_connection(Connection* c);
    void pump(Pool* pool);
    // The per-host connection budget shared by every plain-http engine
    // (Ledger::hosts): takes a place for a new connection, or counts the
    // exchange as waiting (`was_waiting`: it already is); gives one back;
    // counts a waiting exchange out.
    bool reserve_connection(Pool* pool, bool was_waiting = false);
    void release_connection(Pool* pool);
    void unwait(Pool* pool);
    // Requests of other engines wait for a connection to this pool's host.
    bool others_wait_for(Pool* pool);
    void give_up_idle();
    void abort(Exchange* ex, kerberus_status result, const std::string& error);
    void finish(Exchange* ex, const kerberus_outbound_response& response);
    void fail(Exchange* ex, kerberus_status result, const std::string& error);
    void expire_deadlines();
    void close_idle_expired();
    int wait_timeout_ms() const;
    void set_write_interest(Connection* c, bool want);

    const Settings& settings_;
    Ledger& ledger_;
    Resolver* resolver_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;

    // Guarded by ledger_.mutex.
    std::vector<std::unique_ptr<Exchange>> incoming_;
    std::vector<std::pair<std::string, Resolved>> resolved_;  // lookups answered, by authority
    bool wake_pending_ = false;

    const bool embedded_;
    bool queued_here_ = false;  // embedded: a request was queued by the driving thread
    bool wake_others_ = false;  // a request started waiting for the host budget: tell the other engines

    // Loop thread only.
    std::vector<std::unique_ptr<Exchange>> taking_;  // swapped with incoming_, keeps its capacity
    std::vector<uint64_t> cancel_ids_;
    std::vector<uint64_t> resume_ids_;
    std::vector<uint64_t> body_ids_;
    bool stopping_ = false;
    Clock::time_point now_;
    Exchange* running_ = nullptr;  // intrusive list of started, unfinished exchanges
    std::size_t running_count_ = 0;
    DeadlineHeap<Exchange> deadlines_;
    std::unordered_map<std::string, std::unique_ptr<Pool>> pools_;  // by authority
    std::unordered_set<Connection*> connections_;
    std::vector<Connection*> graveyard_;  // closed during this round of events, freed after it
    std::size_t idle_count_ = 0;
    Clock::time_point next_sweep_;
    std::vector<kerberus_header> headers_scratch_;
    std::unique_ptr<char[]> read_buffer_;

    std::thread thread_;
};

}  // namespace kerberus::outbound
