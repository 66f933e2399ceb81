// Where an exchange's answer goes, and how it gets there: kerberus formats
// the response bytes itself and writes them to the connection's socket.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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

// Which answers carry content and a Content-Length (RFC 9110 6.4.1, 8.6,
// 15.3.6, 15.4.5; RFC 9112 6.3):
//   1xx, 204   no content, no Content-Length (MUST NOT);
//   205        no content, "Content-Length: 0";
//   304        no content; a Content-Length only as the plugin stated it
//              (the length a 200 would have had);
//   HEAD       no content; the stated length, else the body's (what a GET
//              would send);
//   otherwise  the body and its length.
struct ResponseFraming {
    bool send_body;
    std::optional<uint64_t> content_length;
    bool chunked = false;  // a streamed body of unknown length (RFC 9112 7.1)
};
ResponseFraming response_framing(bool head_request, int status, std::size_t body_size,
                                 std::optional<uint64_t> stated_length);

// Status line, Connection, the block's lines, X-Request-Id (unless empty),
// Date, Content-Length or Transfer-Encoding as `framing` says, and the body
// when it says so,
// into `out` (replacing what it held).
void format_response(std::string& out, bool http10, int status, const HeaderBlock& headers, std::string_view body,
                     const ResponseFraming& framing, std::string_view request_id);

// Sends `bytes` on the connection (any thread), in order behind what is
// still queued on it (see net::Connection::write_locked). With `close`, the
// connection ends once they are out. `bytes` is left as it was when they
// went to the socket (so a caller may reuse the buffer) and moved from when
// they were queued. An `interim` answer (100 Continue) does not count as
// the request's answer.
void write_response(const Connection& to, std::string& bytes, bool close, bool interim = false);
// The same with the socket's write mutex already held: for a streamed
// answer's last piece, which must count as the answer in the same step it
// goes out (else the client's next request may arrive first and be dropped).
void write_response_locked(const Connection& to, std::string& bytes, bool close, bool interim = false);

}  // namespace kerberus::http
