// Where an exchange's answer goes, and how it gets there: kerberus formats
// the response bytes itself and writes them to the connection's socket.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/header_block.h"
#include "net/connection.h"

namespace kerberus::http {

class HttpConnection;

struct Connection {
    std::shared_ptr<net::Connection> socket;  // null once answered
    HttpConnection* http = nullptr;           // the socket's protocol state; lives as long as it
    bool http10 = false;
};

// Status line, Connection, the block's lines, X-Request-Id (unless empty),
// Date, Content-Length, body, into `out` (replacing what it held). A HEAD
// answer carries the headers only (`send_body` false).
void format_response(std::string& out, bool http10, int status, const HeaderBlock& headers, std::string_view body,
                     bool send_body, std::string_view request_id);

// Sends `bytes` on the connection (any thread), in order behind what is
// still queued on it (see net::Connection::write_locked). With `close`, the
// connection ends once they are out. `bytes` is left as it was when they
// went to the socket (so a caller may reuse the buffer) and moved from when
// they were queued. An `interim` answer (100 Continue) does not count as
// the request's answer.
void write_response(const Connection& to, std::string& bytes, bool close, bool interim = false);

}  // namespace kerberus::http
