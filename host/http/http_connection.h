// HTTP/1.1 on one client connection: frames the requests it receives with
// kerberus's parser (request_parser.h), hands each to the Dispatcher, and
// keeps what orders their answers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "http/request_body.h"
#include "http/request_parser.h"
#include "http/stream_events.h"
#include "http/wire.h"
#include "net/connection.h"

namespace kerberus::http {

class Dispatcher;

class HttpConnection : public net::Protocol {
public:
    explicit HttpConnection(Dispatcher& dispatcher);

    void on_data(net::Connection& connection, std::string_view bytes) override;
    bool on_end_of_input(net::Connection& connection) override;
    bool on_timeout(net::Connection& connection, net::Phase phase) override;
    void on_drained(net::Connection& connection) override;
    void on_closed(net::Connection& connection) override;

    // Answers must leave in request order. While a request a plugin kept is
    // unanswered, nothing read behind it is served: its answer closes the
    // connection instead, and the client sends the rest again. Both are
    // changed under the connection's write mutex (see write_response).
    std::atomic<uint64_t> answers_written{0};
    bool close_after_answer = false;
    // The events of the response being streamed on this connection, if
    // any (under the write mutex too).
    std::shared_ptr<StreamEvents> stream_events;

    // Worker thread: delivers what arrived of `body` (the request body
    // being streamed on this connection) and decides whether to read on.
    void pump_body(net::Connection& connection, RequestBody* body);

private:
    // Handles the complete requests at the start of `input`; returns how
    // many bytes they took.
    std::size_t serve(std::string_view input, net::Connection& connection);
    // A request whose route streams its body: dispatched at its head, its
    // body delivered from then on.
    void start_body(net::Connection& connection, bool continue_owed);
    // True (and the connection set to close after that answer) when a
    // request a plugin kept is still unanswered.
    bool kept_unanswered(net::Connection& connection);
    bool answers_owed() const {
        return answers_written.load(std::memory_order_acquire) < requests_dispatched_;
    }
    Connection to(net::Connection& connection, bool http10) {
        return Connection{connection.shared_from_this(), this, http10};
    }

    Dispatcher& dispatcher_;
    RequestParser parser_;
    ParsedRequest request_;  // reused: its field vector stays warm
    std::string pending_;    // received bytes of a request (or a streamed body) not yet taken
    std::shared_ptr<RequestBody> body_;  // the streamed body being received, if any
    uint64_t requests_dispatched_ = 0;
    // Answered with "Connection: close" (or about to be): whatever else
    // arrives is not read.
    bool closing_ = false;
};

}  // namespace kerberus::http
