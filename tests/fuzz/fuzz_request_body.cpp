// fuzz_request_body: the first request of a connection's bytes (format:
// connection_driver.h; the reads as its option line says), its body taken
// both ways the daemon takes bodies, compared:
//   collected  the request parser reads the request whole (one read);
//   streamed   the parser stops at the head (ask_before_body) and a
//              RequestBody, the one a route with a streamed body gets,
//              decodes the body read by read, its callbacks pausing
//              (KERBERUS_BUSY) and resuming as bytes of the input say.
//
// Findings (each aborts with a message naming it):
// - ASan/UBSan errors;
// - a collected body the streamed one does not deliver byte for byte, with
//   on_end(KERBERUS_OK), and where it ends (the next request's first byte);
// - a body whose chunked framing the collecting parser refuses (400) that
//   the streamed one does not end with KERBERUS_ERR_INVALID, or the reverse;
// - an empty piece, a piece after on_end, on_end twice, or never once the
//   input ran out (the client "closed");
// - a head the two modes read differently.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connection_driver.h"
#include "finding.h"
#include "http/request_body.h"

namespace {

using kerberus::fuzz::finding;
using kerberus::fuzz::quoted;
using kerberus::http::ParsedRequest;
using kerberus::http::RequestBody;
using kerberus::http::RequestParser;

// Bodies here are small; the in-memory limit must not decide anything.
constexpr std::size_t kMaxBody = 1 << 24;

struct Collected {
    RequestParser::Status status = RequestParser::Status::incomplete;
    int error_status = 0;
    std::string body;
    std::size_t end = 0;  // bytes the request took
    bool upgrade = false;
};

Collected collect(std::string_view payload, std::size_t max_head) {
    RequestParser parser({max_head, kMaxBody});
    ParsedRequest request;
    Collected c;
    c.status = parser.parse(payload, request);
    if (c.status == RequestParser::Status::failed) c.error_status = parser.error_status();
    if (c.status != RequestParser::Status::complete) return c;
    c.body.assign(request.body);
    c.end = request.size;
    c.upgrade = parser.body_framing().upgrade;
    return c;
}

struct Streamed {
    std::string body;
    int ends = 0;
    kerberus_status result = 1;  // none yet
    bool after_end = false;
    bool empty_piece = false;
    std::string_view pauses;  // one byte per piece: odd pauses after it
    std::size_t pieces = 0;
};

kerberus_status on_data(void* user, const char* data, std::size_t len) {
    auto& s = *static_cast<Streamed*>(user);
    if (s.ends > 0) s.after_end = true;
    if (len == 0) s.empty_piece = true;
    s.body.append(data, len);
    bool pause = !s.pauses.empty() && (static_cast<unsigned char>(s.pauses[s.pieces++ % s.pauses.size()]) & 1);
    return pause ? KERBERUS_BUSY : KERBERUS_OK;
}

void on_end(void* user, kerberus_status result) {
    auto& s = *static_cast<Streamed*>(user);
    ++s.ends;
    s.result = result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    kerberus::fuzz::FuzzInput in = kerberus::fuzz::read_input(data, size);
    const std::string_view payload = in.payload;
    const Collected whole = collect(payload, in.limits.max_head);

    // The streamed side: reads arrive one by one into `pending`, as the
    // connection keeps them.
    RequestParser parser({in.limits.max_head, kMaxBody});
    parser.ask_before_body(true);
    ParsedRequest request;
    std::string pending;
    std::size_t offset = 0, read = 0;
    RequestParser::Status status = RequestParser::Status::incomplete;
    while (read < in.reads.size()) {
        pending.append(payload.substr(offset, in.reads[read]));
        offset += in.reads[read++];
        status = parser.parse(pending, request);
        if (status != RequestParser::Status::incomplete) break;
    }
    if (status != RequestParser::Status::body_follows) {
        // The head alone decided: complete with its body, failed, or cut.
        if (status != whole.status && whole.status != RequestParser::Status::failed &&
            status != RequestParser::Status::incomplete) {
            finding("the head is read differently when the body may stream", quoted(payload));
        }
        return 0;
    }
    // As the connection does for a route that streams its body.
    parser.stream_body();
    const RequestParser::BodyFraming framing = parser.body_framing();
    const std::size_t head_size = request.size;
    pending.erase(0, head_size);
    std::size_t consumed = head_size;

    Streamed s;
    s.pauses = payload.substr(0, 16);
    RequestBody body(framing, false);
    kerberus_body_fns fns{sizeof fns, on_data, on_end};
    if (body.start(fns, &s) != KERBERUS_OK) finding("start refused", quoted(payload));
    for (;;) {
        std::size_t used = body.feed(pending);
        pending.erase(0, used);
        consumed += used;
        RequestBody::Next next = body.next();
        if (next == RequestBody::Next::done) break;
        if (next == RequestBody::Next::wait) {
            body.resume();  // the consumer caught up
            continue;
        }
        if (read == in.reads.size()) {
            body.fail(KERBERUS_ERR_CLOSED);  // the client is gone
            break;
        }
        pending.append(payload.substr(offset, in.reads[read]));
        offset += in.reads[read++];
    }

    if (s.after_end || s.empty_piece || s.ends != 1) {
        finding("callbacks out of order", "ends " + std::to_string(s.ends) + (s.after_end ? ", a piece after the end" : "") +
                                              (s.empty_piece ? ", an empty piece" : "") + "\n" + quoted(payload));
    }
    if (framing.upgrade) {
        // Raw until the client closes: every byte after the head.
        if (s.body != payload.substr(head_size) || s.result != KERBERUS_OK) finding("upgrade bytes lost", quoted(payload));
        return 0;
    }
    switch (whole.status) {
        case RequestParser::Status::complete:
            if (s.result != KERBERUS_OK || s.body != whole.body || consumed != whole.end) {
                finding("streamed body differs from the collected one",
                        "collected " + quoted(whole.body, 80) + " ending at " + std::to_string(whole.end) +
                            "\nstreamed  " + quoted(s.body, 80) + " ending at " + std::to_string(consumed) +
                            ", result " + std::to_string(s.result) + "\n" + quoted(payload));
            }
            break;
        case RequestParser::Status::failed:
            // Refused in its body's framing: the streamed body breaks off
            // the same way (a 413 cannot happen under kMaxBody).
            if (whole.error_status == 400 && s.result != KERBERUS_ERR_INVALID) {
                finding("framing the collector refuses was streamed", quoted(payload));
            }
            // Trailers are bounded by the daemon's head limit in both (the
            // option line may set another for the collector).
            if (whole.error_status == 431 && in.limits.max_head == kerberus::fuzz::kDaemonMaxHead &&
                s.result != KERBERUS_ERR_INVALID) {
                finding("trailers the collector refuses were streamed", quoted(payload));
            }
            break;
        default:
            // Cut short: the body never ends well.
            if (s.result == KERBERUS_OK) finding("a cut body ended whole", quoted(payload));
            break;
    }
    return 0;
}
