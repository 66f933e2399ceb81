#include "http/http_connection.h"

#include "http/dispatcher.h"

namespace kerberus::http {

HttpConnection::HttpConnection(Dispatcher& dispatcher)
    : dispatcher_(dispatcher), parser_(RequestParser::Limits{kMaxHeaderBytes, dispatcher.max_request_body()}) {}

void HttpConnection::on_data(net::Connection& connection, std::string_view bytes) {
    if (closing_) return;  // its last answer closes it; the rest is not read
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
    // A request half-received must arrive whole within the request
    // timeout, counted from its own first byte; a connection between
    // requests is idle.
    connection.set_phase(pending_.empty() ? net::Phase::idle : net::Phase::receiving, used > 0);
}

bool HttpConnection::on_end_of_input(net::Connection& connection) {
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
    std::shared_ptr<StreamEvents> events;
    {
        std::lock_guard lock(connection.write_mutex());
        events = std::move(stream_events);
    }
    if (events) events->deliver(KERBERUS_STREAM_CLOSED);
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
