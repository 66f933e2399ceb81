// One client connection as the transport keeps it: its socket, the bytes
// still waiting to go out, the protocol that reads it and the timeout that
// applies to what it is doing.
//
// A connection holds exactly one descriptor. Reads, timeouts and closing
// happen on its worker's thread; writes may come from any thread (an
// answer from a plugin's own thread, an outbound callback). Writers and the
// closing worker agree through one mutex: once the worker has marked the
// connection closed under it, no writer touches the descriptor again, so
// the worker can close it at once and its number may be reused safely.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace kerberus::tls {
class Session;
}

namespace kerberus::net {

class Connection;
class Worker;

// What a connection is doing, for its timeout (see Worker).
enum class Phase : uint8_t {
    idle,       // no request partly received: the idle (keep-alive) timeout
    receiving,  // part of a request arrived: the request timeout, from its first byte
    lingering,  // the last answer went out: the rest of the input is read and dropped
    body,       // a streamed request body arrives: the body timeout, from its last byte
};

// The protocol spoken on a connection. Called on the connection's worker
// thread only.
class Protocol {
public:
    virtual ~Protocol() = default;
    // Bytes received, valid only during the call.
    virtual void on_data(Connection& connection, std::string_view bytes) = 0;
    // The client closed its side. True: close now. False: answers are still
    // owed; the protocol's last one closes the connection.
    virtual bool on_end_of_input(Connection& connection) = 0;
    // The deadline of `phase` passed. True keeps the connection (its
    // deadline starts again); false ends it, after any closing answer the
    // protocol wrote.
    virtual bool on_timeout(Connection& connection, Phase phase) = 0;
    // After watch_drain_locked(): what was queued went down to the low-water
    // mark. No lock held.
    virtual void on_drained(Connection&) {}
    // The descriptor was closed (the client left, an error, a timeout); no
    // write reaches it any more. No lock held.
    virtual void on_closed(Connection&) {}
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(int fd, std::string remote, Worker& worker);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The client's address as text ("127.0.0.1", "::1").
    const std::string& remote() const { return remote_; }
    Protocol& protocol() { return *protocol_; }
    void set_protocol(std::unique_ptr<Protocol> protocol) { protocol_ = std::move(protocol); }

    // --- writing: any thread ------------------------------------------
    // Held by a writer for the whole of a write, and by protocols for state
    // that must change in step with what was written (answer ordering).
    std::mutex& write_mutex() { return write_mutex_; }

    // With write_mutex() held. Sends what the socket takes now and queues
    // the rest behind anything already queued. With `close`, these are the
    // last bytes: once they are out the write side is shut and the rest of
    // the input is drained before the descriptor closes; later writes are
    // dropped. `bytes` is left as it was when it all went out at once and
    // moved from when some of it was queued. A connection already closed
    // drops the bytes. On a TLS connection the bytes are encrypted first
    // (and left as they were); `close` adds TLS's close_notify.
    void write_locked(std::string& bytes, bool close) {
        if (tls_) [[unlikely]] {
            write_tls_locked(bytes, close);
            return;
        }
        send_locked(bytes, close);
    }

    // With write_mutex() held. Bytes waiting for the socket to take them.
    std::size_t queued_bytes_locked() const { return queued_bytes_; }
    // With write_mutex() held. Asks for one Protocol::on_drained once the
    // queued bytes are at most kDrainedBytes (at once when they already are).
    static constexpr std::size_t kDrainedBytes = 64 * 1024;
    void watch_drain_locked();
    // With write_mutex() held. False once the descriptor is closed or the
    // last bytes were written.
    bool writable_locked() const { return open_ && !closing_; }

    // Any thread: runs `task` on this connection's worker thread, also
    // after the connection closed (the worker outlives its connections;
    // the task checks gone()).
    void post(std::function<void()> task);

    // --- worker thread only --------------------------------------------
    // The descriptor was closed.
    bool gone() const { return gone_; }
    // Reads the socket or leaves its input waiting in the kernel (a paused
    // streamed body: the client's sending stalls in TCP). The end of the
    // input turns reading off for good.
    void set_reading(bool on);
    // Moves the connection to the timeout of `phase`. Entering `receiving`
    // starts its deadline; staying in it keeps the deadline unless
    // `restart` (a request completed meanwhile); `idle` starts a new one
    // each time.
    void set_phase(Phase phase, bool restart = false);
    Phase phase() const { return phase_; }

    // Before the connection is handed to its worker: TLS on it. Null (the
    // default): plaintext, and no TLS code runs for it.
    void set_tls(std::unique_ptr<tls::Session> session);

private:
    friend class Worker;
    using Clock = std::chrono::steady_clock;

    // With write_mutex_ held.
    // Bytes as they go on the wire (ciphertext on a TLS connection).
    void send_locked(std::string& bytes, bool close);
    void write_tls_locked(std::string& bytes, bool close);
    bool flush_locked();  // false when the socket failed
    void update_interest_locked();
    void end_output_locked();

    const int fd_;
    const std::string remote_;
    Worker& worker_;
    std::unique_ptr<Protocol> protocol_;
    std::unique_ptr<tls::Session> tls_;  // used under write_mutex_ only; null: plaintext

    std::mutex write_mutex_;
    // Guarded by write_mutex_:
    bool open_ = true;             // false once the worker closed the descriptor
    bool closing_ = false;         // the last bytes were written (maybe still queued)
    bool output_ended_ = false;    // ... and are out; the write side is shut
    bool want_read_ = true;        // epoll interest
    bool want_write_ = false;
    bool drain_watched_ = false;
    std::deque<std::string> queued_;
    std::size_t queued_offset_ = 0;  // of queued_.front() already sent
    std::size_t queued_bytes_ = 0;   // not yet sent, over all of queued_

    // Worker thread only.
    Phase phase_ = Phase::idle;
    bool input_ended_ = false;  // the client closed its side
    bool gone_ = false;         // closed: events still pending for it are ignored
    bool tls_established_ = false;  // the TLS handshake finished (as of the last read)
    Clock::time_point deadline_;
    Connection* prev_ = nullptr;  // in the worker's list for phase_
    Connection* next_ = nullptr;
};

}  // namespace kerberus::net
