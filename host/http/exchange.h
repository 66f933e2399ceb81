// One HTTP exchange as plugins see it through kerberus_request: a view of
// the request and the response being built, valid from the handler call
// until it is answered.
//
// The request's bytes live in the connection's read buffer only while its
// input is handled, so the exchange copies the head and the body into
// buffers of its own when it starts (a memcpy into capacity kept across the
// requests an exchange serves): every view handed to a plugin then points
// into the exchange and stays valid for as long as the exchange, sync or
// async.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <vector>

#include "auth/access_control.h"
#include "http/header_block.h"
#include "metrics/http_stats.h"
#include "http/request_body.h"
#include "http/request_parser.h"
#include "http/wire.h"
#include "http/route_table.h"
#include "http/stream_events.h"
#include "kerberus/plugin.h"

struct kerberus_request {};

namespace kerberus {
class PluginInstance;
}

namespace kerberus::http {

class Dispatcher;

class Exchange : public kerberus_request {
public:
    // An answer given while the handler runs has two ends: the answer going
    // out and the handler returning. Whichever comes last finishes the
    // exchange (leaves the plugin, counts it answered) — never earlier, so a
    // reload cannot stop a plugin whose handler still runs, and a worker
    // cannot reuse an exchange another thread is still sending from.
    enum class State : int {
        handling,     // inside the plugin's handler, not answered
        answering,    // respond() is sending; the handler may still run
        handed_over,  // the handler returned while `answering`: the answering thread finishes it
        responded,    // the answer is out (the handler may still run)
        kept,         // the handler returned KERBERUS_ASYNC and nobody answered yet
        expired,      // the host answered (504 deadline, 503 stop) while kept
    };

    static Exchange& from(kerberus_request* r) { return *static_cast<Exchange*>(r); }


    // For a request that could not be parsed: only an error can be sent,
    // and the connection closes after it.
    void begin_rejection(Connection to, std::string_view method, std::string_view target);

    // Copies what it needs of `request`; the answer goes to `to`.
    // `keep_alive`: whether the connection stays open after the answer.
    void begin(const ParsedRequest& request, Connection to, std::string_view remote, bool keep_alive);

    // --- request view -------------------------------------------------
    std::string_view method() const { return method_; }
    std::string_view raw_path() const { return raw_path_; }
    std::string_view query() const { return query_; }
    std::string_view body() const { return body_; }
    const std::vector<HeaderField>& headers() const { return fields_; }
    std::optional<std::string_view> header(std::string_view name) const;
    std::string_view remote_address() const { return remote_; }
    // The client's X-Request-Id when well-formed, else one made here.
    std::string_view request_id() const { return request_id_; }
    // Who called (set before the handler runs; TokenType::none when the
    // request carried no valid credentials).
    auth::Caller& caller() { return caller_; }
    const auth::Caller& caller() const { return caller_; }
    // Normalised decoded path buffer (/api/<id>/rest) and the plugin-relative part.
    std::string& path_buffer() { return path_; }
    std::string_view relative_path() const;
    void set_prefix_length(std::size_t n) { prefix_length_ = n; }
    RouteParams& params() { return params_; }
    // For a path that kept its encoded slashes (NormalisedPath::escaped):
    // parameters hold their values decoded, as for any other path.
    void unescape_params();
    std::optional<std::string_view> param(std::string_view name) const;
    // First value of a query parameter, decoded; stable for the exchange.
    std::optional<std::string_view> query_param(std::string_view name);
    // Calls visit(name, value) per query parameter (decoded), in order.
    int visit_query(kerberus_visit_fn visit, void* user);

    // --- response ------------------------------------------------------
    // The response will close the connection whatever the client asked.
    void close_after_response() {
        keep_alive_ = false;
        block_.set_connection("close");
    }
    kerberus_status add_response_header(std::string_view name, std::string_view value);
    bool has_content_type() const { return has_content_type_; }
    // A Content-Length the plugin stated must be the body's, except where
    // no content is sent (HEAD, 204, 205, 304; see response_framing).
    bool stated_length_fits(int status, std::size_t body_size) const;
    // Sends the plugin's response (its headers plus `body`). Exactly one
    // send per exchange; callers decide who sends through `state`.
    void send(int status, std::string_view body);
    // Sends an answer of the host's own (JSON error, the reason's status),
    // ignoring whatever headers the plugin added — it may still be adding
    // them on its thread. `extra` fills the Allow header of a 405, the
    // WWW-Authenticate header of a 401 or 403.
    void send_host_error(metrics::HostReason reason, std::string_view message, std::string_view extra = {});
    // The route being served (as registered: "GET", "/items/:id"), whose
    // counters record the answer. The views live as long as the plugin.
    void set_route(std::string_view method, std::string_view pattern, metrics::RouteStats* stats) {
        route_method_ = method;
        route_pattern_ = pattern;
        route_stats_ = stats;
    }
    std::string_view route_method() const { return route_method_; }
    std::string_view route_pattern() const { return route_pattern_; }

    // --- streamed response (plugin.h "Streamed responses") ---------------
    // Set by KeptRequests::begin_stream, under its mutex, before the head
    // goes out: from then on send() ends the stream and send_host_error()
    // cuts it off, and no deadline applies.
    bool streaming() const { return streaming_.load(std::memory_order_acquire); }
    void mark_streaming() { streaming_.store(true, std::memory_order_release); }
    // Sends the status line and headers; the plugin's thread.
    void start_stream(int status, int64_t content_length, kerberus_stream_event_fn on_event, void* user_data);
    // One piece of content; returns what response_write returns.
    kerberus_status write_stream(std::string_view data);
    // Fewer bytes written than the stated length: ending cuts the answer.
    bool stream_short() const;
    // response_abort: the end that follows cuts the answer off.
    void cut_stream_at_end() { stream_.cut = true; }
    const std::shared_ptr<StreamEvents>& stream_events() const { return stream_.events; }

    // --- streamed request body (plugin.h "Streamed request bodies") ------
    // A body still arriving when the request was dispatched (set before
    // the handler runs).
    void set_arriving_body(std::shared_ptr<RequestBody> body) { arriving_body_ = std::move(body); }
    bool has_arriving_body() const { return arriving_body_ != nullptr; }
    // The client asked for another protocol, on a route that streams its
    // body: a 101 answer may take the upgrade up.
    bool upgrade_requested() const { return arriving_body_ && arriving_body_->upgrade(); }
    // The route takes its body streamed: request_body refuses, and a body
    // that arrived whole is delivered in one piece.
    void set_streamed_body_route(bool on) { streamed_body_route_ = on; }
    bool streamed_body_route() const { return streamed_body_route_; }
    kerberus_status start_body(const kerberus_body_fns& fns, void* user_data);
    kerberus_status resume_body();
    // The answer is going out: no more body callbacks, and a body not read
    // to its end closes the connection after the answer. `wait`: also for
    // a callback in progress (KeptRequests answers with false under its
    // lock, which a callback's respond() may be waiting for, and waits
    // later in await_body_callbacks, outside it).
    void stop_body(bool wait);
    void await_body_callbacks();
    // The body being delivered, if any (for KeptRequests::forget_plugin).
    std::shared_ptr<RequestBody> body_stream() const {
        if (arriving_body_) return arriving_body_;
        std::shared_ptr<RequestBody> held = held_body_.load();
        return held == answered_marker() ? nullptr : held;
    }
    // While the body arrives no answer deadline runs; after, it counts
    // from the body's end (see RequestBody::deadline_after).
    std::optional<std::chrono::steady_clock::time_point> body_deadline(std::chrono::milliseconds timeout) const {
        return arriving_body_ ? arriving_body_->deadline_after(timeout) : std::nullopt;
    }

    // --- ownership state (see kerberus/plugin.h "Async responses") ------
    std::atomic<State> state{State::handling};
    kerberus::PluginInstance* plugin = nullptr;
    Dispatcher* dispatcher = nullptr;
    std::chrono::steady_clock::time_point deadline;

private:
    void put_on_wire(const HeaderBlock& headers, int status, std::string_view body);
    // The answer's metrics and access log line.
    void record_answer(int status, std::size_t wire_bytes);
    // Finishes a stream: the last chunk, or the cut when it fell short.
    void end_stream(bool cut);
    void stop_body() { stop_body(true); }

    struct Stream {
        int status = 0;
        bool send_body = true;
        bool chunked = false;
        std::optional<uint64_t> length;  // stated Content-Length of a body sent
        uint64_t written = 0;            // content bytes taken
        std::string head;                // status line and headers, sent with the first piece
        bool cut = false;                // response_abort asked to cut it off
        // The answer went out whole and counted (the head of one without
        // content, or the piece that completed a stated length): the end
        // only finishes the bookkeeping.
        bool answered = false;
        std::size_t wire_bytes = 0;      // bytes put on the wire, head included
        std::shared_ptr<StreamEvents> events;
    };
    std::atomic<bool> streaming_{false};
    Stream stream_;

    std::string head_;  // request line and headers as received
    std::string_view method_;
    std::string_view raw_path_;  // these three and fields_ point into head_
    std::string_view query_;
    std::string_view target_;      // as sent, for the access log
    std::string_view request_id_;  // into head_ or generated_id_
    char generated_id_[32];
    bool has_request_id_header_ = false;  // the plugin set X-Request-Id itself
    std::vector<HeaderField> fields_;
    std::string body_;
    std::shared_ptr<RequestBody> arriving_body_;
    std::atomic<std::shared_ptr<RequestBody>> held_body_;  // a whole body being delivered
    // held_body_ was touched: begin() clears it (the atomic is not touched
    // on requests that never use it).
    std::atomic<bool> held_body_used_{false};
    std::shared_ptr<RequestBody> stopped_held_body_;  // the held body an answer stopped, for await_body_callbacks
    static const std::shared_ptr<RequestBody>& answered_marker();
    bool streamed_body_route_ = false;
    std::string remote_;
    auth::Caller caller_;
    std::string path_;
    std::size_t prefix_length_ = 0;
    RouteParams params_;
    std::deque<std::string> decoded_;  // decoded query values handed out (stable addresses)
    Connection to_;
    HeaderBlock block_;
    bool has_content_type_ = false;
    std::optional<uint64_t> stated_length_;  // a Content-Length the plugin added
    bool keep_alive_ = true;
    // What the request's metrics record once it is answered.
    metrics::RouteStats* route_stats_ = nullptr;
    std::string_view route_method_;
    std::string_view route_pattern_;
    std::chrono::steady_clock::time_point arrived_;
    uint64_t request_bytes_ = 0;
    int method_index_ = -1;
};

}  // namespace kerberus::http
