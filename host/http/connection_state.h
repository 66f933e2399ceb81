// What kerberus keeps per client connection, on the Pistache peer: the
// bytes of a request still arriving, the parser working on them, and what
// decides how an answer reaches the socket.
#pragma once

#include <atomic>
#include <string>

#include <pistache/http.h>

#include "http/request_parser.h"

namespace kerberus::http {

struct ConnectionState {
    explicit ConnectionState(RequestParser::Limits limits) : parser(limits) {}

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
    // Answers handed to Pistache's write queue and not yet written. While
    // any is queued, later answers queue behind it to keep their order.
    std::atomic<int> queued_writes{0};
};

// The connection whose input the calling thread is handling right now, or
// null: an answer given for it on this thread may go straight to the socket.
ConnectionState*& connection_in_hand();

}  // namespace kerberus::http
