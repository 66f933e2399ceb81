#include "http/http_connection.h"

#include "http/dispatcher.h"

namespace kerberus::http {

HttpConnection::HttpConnection(Dispatcher& dispatcher)
    : dispatcher_(dispatcher), parser_(RequestParser::Limits{kMaxHeaderBytes, dispatcher.max_request_body(), dispatcher.max_header_fields()}) {
    parser_.ask_before_body(true);
}

void HttpConnection::on_data(net::Connection& connection, std::string_view bytes) {
    if (closing_) return;  // its last answer closes it; the rest is not read
    if (body_) {
        pending_.append(bytes);
        pump_body(connection, body_.get());
        return;
    }
    if (answers_owed() && kept_unanswered(connection)) return;
    std::size_t used;
    if (pending_.empty()) {
        // The usual case: whole requests in one read, parsed where they lie.
        used = serve(bytes, connection);
        if (!closing_ && used < bytes.size()) pending_.assign(bytes.substr(used));
    } else {
        pending_.append(bytes);
        used = serve(pending_, connection);
        if (closing_) {
            pending_.clear();
        } else {
            pending_.erase(0, used);
        }
    }
    if (body_) {
        pump_body(connection, body_.get());
        return;
    }
    // A request half-received must arrive whole within the request
    // timeout, counted from its own first byte; a connection between
    // requests is idle.
    connection.set_phase(pending_.empty() ? net::Phase::idle : net::Phase::receiving, used > 0);
}

bool HttpConnection::on_end_of_input(net::Connection& connection) {
    if (body_) {
        body_->fail(KERBERUS_ERR_CLOSED);
        pump_body(connection, body_.get());
    }
    // A client may send its last request and shut its side: the answers it
    // is owed still go out, and the last one closes the connection.
    std::shared_ptr<StreamEvents> streaming;
    {
        std::lock_guard lock(connection.write_mutex());
        if (!answers_owed()) return true;
        close_after_answer = true;
        closing_ = true;
        streaming = stream_events;
    }
    // Except a stream: a client that closes its side while one flows has
    // left (nginx reads it the same way for proxied answers); the stream's
    // owner hears it now, not at its next write.
    if (streaming) streaming->deliver(KERBERUS_STREAM_CLOSED);
    return false;
}

bool HttpConnection::on_timeout(net::Connection& connection, net::Phase phase) {
    if (body_ && phase == net::Phase::body) {
        // A streamed body stalled: its plugin hears it and answers; the
        // connection waits for that answer, which closes it. (Not started
        // or paused, the connection is idle: only the answer's deadline runs.)
        body_->fail(KERBERUS_ERR_TIMEOUT);
        pump_body(connection, body_.get());
        return true;
    }
    if (phase == net::Phase::idle) {
        // Waiting for a plugin's answer is not the client being idle.
        std::lock_guard lock(connection.write_mutex());
        return answers_owed();
    }
    // Part of a request arrived and the rest did not in time: say so, in
    // the same JSON shape as every other answer, and close. Parsing what
    // is pending again points the method and target (when its head is
    // whole) at it, not at the read buffer they were first seen in.
    closing_ = true;
    parser_.parse(pending_, request_);
    dispatcher_.reject(to(connection, request_.http10), 408,
                       "the request did not arrive whole within server.header_timeout", request_.method,
                       request_.target);
    pending_.clear();
    return false;
}

void HttpConnection::on_drained(net::Connection& connection) {
    std::shared_ptr<StreamEvents> events;
    {
        std::lock_guard lock(connection.write_mutex());
        events = stream_events;
    }
    if (events) events->deliver(KERBERUS_STREAM_WRITABLE);
}

void HttpConnection::on_closed(net::Connection& connection) {
    if (body_) {
        body_->fail(KERBERUS_ERR_CLOSED);
        body_.reset();
    }
    std::shared_ptr<StreamEvents> events;
    {
        std::lock_guard lock(connection.write_mutex());
        events = std::move(stream_events);
    }
    if (events) events->deliver(KERBERUS_STREAM_CLOSED);
}

void HttpConnection::start_body(net::Connection& connection, bool continue_owed) {
    ++requests_dispatched_;
    body_ = std::make_shared<RequestBody>(parser_.body_framing(), continue_owed);
    // The plugin starts, resumes and stops the delivery from any thread;
    // the worker does it. Nothing here keeps the connection alive: once it
    // is gone the body has failed (on_closed), and start() says so.
    body_->set_wake([weak = connection.weak_from_this(), http = this, body = std::weak_ptr<RequestBody>(body_)] {
        std::shared_ptr<net::Connection> c = weak.lock();
        if (!c) return;
        c->post([weak, http, body] {
            std::shared_ptr<RequestBody> b = body.lock();
            std::shared_ptr<net::Connection> alive = weak.lock();
            if (b && alive && !alive->gone()) http->pump_body(*alive, b.get());
        });
    });
    std::shared_ptr<RequestBody> body = body_;
    dispatcher_.handle(request_, to(connection, request_.http10), Dispatcher::Arrival{connection.remote(), false},
                       std::move(body));
    parser_.reset();
}

void HttpConnection::pump_body(net::Connection& connection, RequestBody* body) {
    if (body_.get() != body) return;  // done with already
    if (body_->take_continue()) {
        std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
        write_response(to(connection, false), interim, false, true);
    }
    const std::size_t used = body_->feed(pending_);
    pending_.erase(0, used);
    switch (body_->next()) {
        case RequestBody::Next::read:
            connection.set_reading(true);
            // An upgraded connection may rest as long as its plugin lets it
            // (the proxy's tunnel timeout); a body must keep arriving.
            if (body_->upgrade()) connection.set_phase(net::Phase::idle);
            else connection.set_phase(net::Phase::body, used > 0);
            return;
        case RequestBody::Next::wait:
            // Not started, or paused: no body timeout (the answer's
            // deadline still runs), and the client's sending stalls in TCP.
            connection.set_reading(false);
            connection.set_phase(net::Phase::idle);
            return;
        case RequestBody::Next::done: break;
    }
    const bool whole = body_->fully_read();
    body_.reset();
    connection.set_reading(true);
    if (!whole) {
        // Answered before its end, or broken off: the rest is not read, and
        // the answer closes the connection.
        closing_ = true;
        pending_.clear();
        connection.set_phase(net::Phase::idle);
        return;
    }
    // What follows the body is the client's next request.
    std::string rest;
    rest.swap(pending_);
    connection.set_phase(net::Phase::idle);
    if (!rest.empty()) on_data(connection, rest);
}

bool HttpConnection::kept_unanswered(net::Connection& connection) {
    std::lock_guard lock(connection.write_mutex());
    if (!answers_owed()) return false;
    close_after_answer = true;
    closing_ = true;
    pending_.clear();
    return true;
}

std::size_t HttpConnection::serve(std::string_view input, net::Connection& connection) {
    std::size_t used = 0;
    while (used < input.size()) {
        std::string_view rest = input.substr(used);
        switch (parser_.parse(rest, request_)) {
            case RequestParser::Status::incomplete:
                if (parser_.take_continue()) {
                    std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
                    write_response(to(connection, false), interim, false, true);
                }
                return used;
            case RequestParser::Status::failed:
                closing_ = true;
                dispatcher_.reject(to(connection, request_.http10), parser_.error_status(), parser_.error_message(),
                                   request_.method, request_.target);
                return used;
            case RequestParser::Status::body_follows:
                if (!dispatcher_.streams_body(request_)) {
                    parser_.collect_body();
                    continue;  // parsed again, collecting
                }
                parser_.stream_body();
                used += request_.size;
                start_body(connection, parser_.take_continue());
                return used;
            case RequestParser::Status::complete: break;
        }
        used += request_.size;
        ++requests_dispatched_;
        bool pipelined = used < input.size();
        bool finished = dispatcher_.handle(request_, to(connection, request_.http10),
                                           Dispatcher::Arrival{connection.remote(), pipelined});
        parser_.reset();
        // A kept request's answer closes the connection when more was
        // pipelined behind it; that rest is for the client to send again.
        if ((!finished && pipelined) || !request_.keep_alive || dispatcher_.draining()) {
            closing_ = true;
            return used;
        }
    }
    return used;
}

}  // namespace kerberus::http
