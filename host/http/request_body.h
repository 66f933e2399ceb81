// The body of a request whose route streams it (plugin.h "Streamed request
// bodies"): the connection's worker decodes it as it arrives and hands the
// pieces to the plugin's callbacks; the plugin starts, pauses and resumes
// the delivery from any thread, and an answer stops it.
//
// Callbacks run with a mutex held, so a stop from another thread waits for
// one in progress (plugin.h: no body callback once the answer returned); a
// call from inside a callback is recognised by its thread and does not wait.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_parser.h"
#include "kerberus/plugin.h"

namespace kerberus::http {

class RequestBody {
public:
    using Clock = std::chrono::steady_clock;
    // Asks the delivering worker to look at the body again; any thread.
    using Wake = std::function<void()>;

    // A body still arriving on the connection, framed as `framing`;
    // `continue_owed`: the client waits for "100 Continue" before sending it.
    RequestBody(RequestParser::BodyFraming framing, bool continue_owed);
    // A body that arrived whole with its head.
    explicit RequestBody(std::string bytes);
    RequestBody(const RequestBody&) = delete;
    RequestBody& operator=(const RequestBody&) = delete;

    // Before start(); called after start, resume and stop.
    void set_wake(Wake wake) { wake_ = std::move(wake); }

    // --- the plugin's side, any thread ---------------------------------
    // request_body_stream and request_body_resume.
    kerberus_status start(const kerberus_body_fns& fns, void* user_data);
    kerberus_status resume();
    // The request is being answered: no callback starts after this returns,
    // and (`wait`) none is still running then, unless called from inside
    // one. Without `wait` (the host's own answers, given under a lock a
    // callback may be waiting for) one in progress may still finish;
    // await_callbacks() waits for it later.
    void stop(bool wait = true);
    void await_callbacks();
    // Stopped or ended: no callback will start.
    bool finished() const;
    // Every byte of the body was taken from the connection (so the
    // connection can carry the next request).
    bool fully_read() const;
    // An upgrade request's: once started, the connection's bytes after the
    // head, raw, until the client ends it; never started, an empty body.
    bool upgrade() const { return upgrade_; }
    // For the answer deadline (server.request_timeout counts from the
    // body's end): when it may fall at the earliest, nullopt when the body
    // does not move it.
    std::optional<Clock::time_point> deadline_after(std::chrono::milliseconds timeout) const;

    // --- the worker's side ---------------------------------------------
    // Delivers what `input` holds of the body while delivery flows;
    // returns the bytes taken.
    std::size_t feed(std::string_view input);
    // A whole body: delivers what is left of it.
    void feed_held();
    // The rest of the body will not arrive (KERBERUS_ERR_CLOSED,
    // KERBERUS_ERR_TIMEOUT): on_end now when started, else start() refuses.
    void fail(kerberus_status why);
    // True once, when delivery has started and "100 Continue" is owed.
    bool take_continue();
    enum class Next { read, wait, done };
    // What the connection does now: read more, wait (not started, paused),
    // or go back to requests (ended or stopped).
    Next next() const;

private:
    enum class State : uint8_t { waiting, flowing, paused, ended, stopped };

    // With mutex_ held (or inside a callback): on_end(result), once.
    void end_locked(kerberus_status result);
    // A piece for on_data; false when delivery must stop after it.
    bool deliver_locked(std::string_view piece);
    bool inside_callback() const;

    mutable std::mutex mutex_;  // held across callbacks
    std::atomic<State> state_{State::waiting};  // changed under mutex_
    kerberus_body_fns fns_{};
    void* user_data_ = nullptr;
    kerberus_status failure_ = KERBERUS_OK;  // under mutex_: how it ended, or fail() before start()
    bool resume_asked_ = false;              // under mutex_: resume() from inside on_data
    // Since when no body deadline runs, and when the body ended (ns since
    // the clock's epoch; 0: not yet).
    std::atomic<bool> arriving_{false};
    std::atomic<bool> whole_{false};  // ended with every byte taken
    std::atomic<int64_t> ended_at_{0};
    Wake wake_;

    // Worker only.
    const bool held_;
    const bool upgrade_ = false;
    std::string bytes_;  // held_: the body
    std::size_t bytes_offset_ = 0;
    bool chunked_ = false;
    uint64_t remaining_ = 0;  // not chunked: bytes still to come
    ChunkedDecoder chunks_;
    bool continue_owed_ = false;
};

}  // namespace kerberus::http
