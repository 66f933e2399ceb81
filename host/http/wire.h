// Where an exchange's answer goes, and how it gets there: kerberus writes
// the response bytes itself and hands them to the connection's Pistache
// transport. (Pistache's ResponseWriter formats through std::ostream and
// per-header objects, about a fifth of a request's cost, and cannot send a
// header name twice.)
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <pistache/peer.h>
#include <pistache/transport.h>

#include "http/connection_state.h"
#include "http/header_block.h"

namespace kerberus::http {

struct Connection {
    Pistache::Tcp::Transport* transport = nullptr;  // null once answered
    std::weak_ptr<Pistache::Tcp::Peer> peer;        // expires when the client goes
    bool http10 = false;
    ConnectionState* state = nullptr;  // never null; lives as long as the peer
};

// Status line, Connection, the block's lines, Date, Content-Length, body,
// into `out` (replacing what it held). A HEAD answer carries the headers
// only (`send_body` false).
void format_response(std::string& out, bool http10, int status, const HeaderBlock& headers, std::string_view body,
                     bool send_body);

// Sends `bytes` on the connection (any thread). With nothing queued before
// them they go straight to the socket; otherwise (and for what the socket
// does not take at once) through Pistache's write queue. With `close`, the connection is
// half-closed once they are out: Pistache never closes after a response,
// and a client told "Connection: close" waits for the end.
// `bytes` is left as it was when they went to the socket (so a caller may
// reuse the buffer) and moved from when they were queued.
// An `interim` answer (100 Continue) does not count as the request's answer.
void write_response(const Connection& to, std::string& bytes, bool close, bool interim = false);

}  // namespace kerberus::http
