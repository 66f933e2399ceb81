// What kerberus keeps per client connection, on the Pistache peer: the
// bytes of a request still arriving, the parser working on them, and what
// decides how an answer reaches the socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <unistd.h>

#include <pistache/http.h>

#include "http/request_parser.h"

namespace kerberus::http {

struct ConnectionState {
    explicit ConnectionState(RequestParser::Limits limits) : parser(limits) {}
    ~ConnectionState() {
        if (socket >= 0) ::close(socket);
    }
    ConnectionState(const ConnectionState&) = delete;
    ConnectionState& operator=(const ConnectionState&) = delete;

    RequestParser parser;
    ParsedRequest request;  // reused: its field vector stays warm
    std::string pending;    // received bytes of requests not yet complete
    std::string remote;     // the client's address as text
    // Pistache's parser for this peer, whose timestamp its idle-connection
    // timer reads; owned by the peer.
    Pistache::Http::RequestParser* timer_clock = nullptr;
    // Answered with "Connection: close" (or about to be): whatever else
    // arrives is not read.
    bool closing = false;

    // How answers reach the client (see write_response). `socket` is a
    // duplicate of the peer's descriptor, owned here: Pistache closes its
    // own when the client goes, on its thread, and the number may then be
    // reused by another connection at any moment; this one names the same
    // socket for as long as the peer object exists, so any thread may write
    // to it.
    int socket = -1;
    std::mutex write_mutex;  // one writer at a time, and `queued_writes`
    // Answers handed to Pistache's write queue and not yet written. While
    // any is queued, later answers queue behind it to keep their order.
    int queued_writes = 0;

    // Answers must leave in request order. While a request a plugin kept is
    // unanswered, nothing read behind it is served: its answer closes the
    // connection instead, and the client sends the rest again.
    uint64_t requests_dispatched = 0;         // worker thread only
    std::atomic<uint64_t> answers_written{0};  // changed under write_mutex
    bool close_after_answer = false;           // under write_mutex
};

}  // namespace kerberus::http
