// fuzz_request_parser_differential: the same connection bytes through
// kerberus's request parser (driven like the connection loop, with the
// reads and limits of the option line; format: connection_driver.h) and
// through libhttp-parser 2.9.4, the parser Node.js used for a decade, fed
// the same reads.
//
//   <option line>\n<payload>      e.g. "\nPOST / HTTP/1.1\r\n..." (one read)
//
// Per request the two must agree on whether it is accepted, on where it
// ends (so on where the next one starts), on method, target, HTTP/1.0 and
// body. Where they differ on purpose the difference is one of the rows of
// the table in docs/fuzzing.md, each recognised here from the request's own
// bytes (RawHead, strict_chunks) and, when kerberus is the one refusing,
// from the status it answers. Anything else aborts. Two parsers that both
// accept but end a request at different bytes would let a request be
// smuggled past one of them: that is never filtered.
#include <climits>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <http_parser.h>

#include "connection_driver.h"

namespace {

using kerberus::fuzz::ConnectionResult;
using kerberus::fuzz::finding;
using kerberus::fuzz::quoted;
using kerberus::fuzz::RequestResult;

// ------------------------------------------------------------ the oracle

struct OracleRequest {
    std::string method, url, body;
    std::vector<std::pair<std::string, std::string>> fields;
    unsigned major = 0, minor = 0;
    bool upgrade = false;
    bool in_trailers = false;
    bool field_open = false;  // the last header callback was for a name
    std::size_t end = 0;
};

struct OracleResult {
    enum class End { idle, mid, failed };
    std::vector<OracleRequest> requests;
    OracleRequest current;
    bool in_message = false;
    End end = End::idle;
    http_errno error = HPE_OK;
    std::size_t error_offset = 0;
};

OracleResult& state(http_parser* p) { return *static_cast<OracleResult*>(p->data); }

int on_message_begin(http_parser* p) {
    state(p).current = {};
    state(p).in_message = true;
    return 0;
}

int on_url(http_parser* p, const char* at, std::size_t n) {
    state(p).current.url.append(at, n);
    return 0;
}

int on_header_field(http_parser* p, const char* at, std::size_t n) {
    OracleRequest& r = state(p).current;
    if (r.in_trailers) return 0;  // kerberus reads past trailers; they are compared as bytes only
    if (!r.field_open) r.fields.emplace_back();
    r.field_open = true;
    r.fields.back().first.append(at, n);
    return 0;
}

int on_header_value(http_parser* p, const char* at, std::size_t n) {
    OracleRequest& r = state(p).current;
    if (r.in_trailers) return 0;
    r.field_open = false;
    if (r.fields.empty()) r.fields.emplace_back();
    r.fields.back().second.append(at, n);
    return 0;
}

int on_headers_complete(http_parser* p) {
    OracleRequest& r = state(p).current;
    r.method = http_method_str(static_cast<http_method>(p->method));
    r.major = p->http_major;
    r.minor = p->http_minor;
    r.upgrade = p->upgrade;
    return 0;
}

int on_body(http_parser* p, const char* at, std::size_t n) {
    state(p).current.body.append(at, n);
    return 0;
}

int on_chunk_header(http_parser* p) {
    if (p->content_length == 0) state(p).current.in_trailers = true;
    return 0;
}

int on_message_complete(http_parser* p) {
    // Pausing makes http_parser_execute return right after the request's
    // last byte, which is how its boundary is learnt.
    http_parser_pause(p, 1);
    return 0;
}

OracleResult oracle(std::string_view payload, const std::vector<std::size_t>& reads) {
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = on_message_begin;
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_chunk_header = on_chunk_header;
        s.on_message_complete = on_message_complete;
        // Head size limits are kerberus's business (a row of their own).
        http_parser_set_max_header_size(UINT32_MAX);
        return s;
    }();
    OracleResult result;
    http_parser parser;
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = &result;
    std::size_t base = 0;
    for (std::size_t n : reads) {
        std::size_t off = 0;
        while (off < n) {
            std::size_t got = http_parser_execute(&parser, &settings, payload.data() + base + off, n - off);
            http_errno e = HTTP_PARSER_ERRNO(&parser);
            if (e == HPE_PAUSED) {
                off += got;
                result.current.end = base + off;
                result.requests.push_back(std::move(result.current));
                result.current = {};
                result.in_message = false;
                http_parser_pause(&parser, 0);
                // After CONNECT or an upgrade the bytes are another protocol.
                if (result.requests.back().upgrade) {
                    result.end = OracleResult::End::idle;
                    return result;
                }
                continue;
            }
            if (e != HPE_OK) {
                result.end = OracleResult::End::failed;
                result.error = e;
                result.error_offset = base + off + got;
                return result;
            }
            off += got;
            if (got == 0) break;
        }
        base += n;
    }
    result.end = result.in_message ? OracleResult::End::mid : OracleResult::End::idle;
    return result;
}

// ------------------------------------------- a request's bytes, read plainly

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
        if (x != y) return false;
    }
    return true;
}

std::string_view ltrim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (!tchar(c)) return false;
    }
    return true;
}

bool hexdig(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The head as RFC 9112 lays it out, read from the raw bytes of one request
// (leading blank lines skipped; lines end at LF, a CR before it dropped).
struct RawHead {
    std::size_t start = 0;      // first byte after the blank lines
    std::size_t end = 0;        // just past the empty line; 0 when there is none
    std::size_t blank = 0;      // bytes of blank lines before the request line
    std::string_view request_line;
    std::vector<std::string_view> lines;  // field lines
    std::size_t longest_line = 0;

    explicit RawHead(std::string_view bytes) {
        std::size_t pos = 0;
        for (std::size_t from = 0, nl; from < bytes.size(); from = nl + 1) {
            nl = bytes.find('\n', from);
            longest_line = std::max(longest_line, (nl == std::string_view::npos ? bytes.size() : nl) - from);
            if (nl == std::string_view::npos) break;
        }
        while (pos < bytes.size()) {
            if (bytes[pos] == '\n') {
                ++pos;
            } else if (bytes.substr(pos, 2) == "\r\n") {
                pos += 2;
            } else {
                break;
            }
        }
        start = blank = pos;
        bool first = true;
        while (pos < bytes.size()) {
            std::size_t nl = bytes.find('\n', pos);
            if (nl == std::string_view::npos) break;
            std::string_view line = bytes.substr(pos, nl - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            pos = nl + 1;
            if (first) {
                request_line = line;
                first = false;
            } else if (line.empty()) {
                end = pos;
                break;
            } else {
                lines.push_back(line);
            }
        }
    }

    std::vector<std::string_view> values(std::string_view name) const {
        std::vector<std::string_view> out;
        for (std::string_view line : lines) {
            std::size_t colon = line.find(':');
            if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
                out.push_back(trim(line.substr(colon + 1)));
            }
        }
        return out;
    }

    // request-line = method SP request-target SP HTTP-version, the target
    // visible ASCII only (RFC 9112 3, 3.2).
    bool strict_request_line() const {
        std::string_view l = request_line;
        std::size_t sp1 = l.find(' ');
        if (sp1 == std::string_view::npos || !token(l.substr(0, sp1))) return false;
        std::size_t sp2 = l.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
        for (unsigned char c : l.substr(sp1 + 1, sp2 - sp1 - 1)) {
            if (c <= 0x20 || c >= 0x7f) return false;
        }
        std::string_view v = l.substr(sp2 + 1);
        return v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
               v[7] >= '0' && v[7] <= '9';
    }

    std::string_view method() const { return request_line.substr(0, request_line.find(' ')); }
    std::string_view version() const {
        std::size_t sp = request_line.rfind(' ');
        return sp == std::string_view::npos ? std::string_view() : request_line.substr(sp + 1);
    }
    bool http10() const { return version() == "HTTP/1.0"; }
    // field-line = field-name ":" OWS field-value OWS, the name a token
    // (RFC 9112 5, 5.1), the value without controls but HTAB (RFC 9110 5.5).
    bool strict_fields() const {
        for (std::string_view line : lines) {
            std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || !token(line.substr(0, colon))) return false;
            for (unsigned char c : line.substr(colon + 1)) {
                if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
            }
        }
        return true;
    }
    bool folded() const {
        for (std::string_view line : lines) {
            if (line.front() == ' ' || line.front() == '\t') return true;
        }
        return false;
    }
};

// The transfer codings listed in Transfer-Encoding fields, in order.
std::vector<std::string_view> transfer_codings(const RawHead& head) {
    std::vector<std::string_view> out;
    for (std::string_view value : head.values("transfer-encoding")) {
        while (!value.empty()) {
            std::size_t comma = value.find(',');
            std::string_view c = trim(value.substr(0, comma));
            if (!c.empty()) out.push_back(c);
            if (comma == std::string_view::npos) break;
            value.remove_prefix(comma + 1);
        }
    }
    return out;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
// chunk-ext-val = token / quoted-string (RFC 9112 7.1.1, RFC 9110 5.6.4).
bool chunk_ext(std::string_view ext) {
    auto take_token = [&] {
        std::size_t n = 0;
        while (n < ext.size() && tchar(static_cast<unsigned char>(ext[n]))) ++n;
        ext.remove_prefix(n);
        return n > 0;
    };
    auto take_quoted = [&] {
        for (std::size_t q = 1; q < ext.size(); ++q) {
            auto c = static_cast<unsigned char>(ext[q]);
            if (c == '"') {
                ext.remove_prefix(q + 1);
                return true;
            }
            if (c == '\\') {
                ++q;  // quoted-pair: HTAB, SP, VCHAR or obs-text
                if (q >= ext.size()) return false;
                c = static_cast<unsigned char>(ext[q]);
                if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
            } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return false;
    };
    // BWS stands only before ";" and around "=": none may end the line.
    for (;;) {
        if (ext.empty()) return true;
        ext = ltrim(ext);
        if (ext.empty() || ext.front() != ';') return false;
        ext = ltrim(ext.substr(1));
        if (!take_token()) return false;
        std::string_view after = ltrim(ext);
        if (after.empty() || after.front() != '=') continue;
        ext = ltrim(after.substr(1));
        if (!(ext.empty() || ext.front() != '"' ? take_token() : take_quoted())) return false;
    }
}

// A chunked body that starts at `body`, checked against RFC 9112 7.1:
// chunk-size [chunk-ext] CRLF, the data, CRLF, and after the last chunk
// trailer lines ending in CRLF. Only what lies before the end of `body` is
// judged.
struct ChunkCheck {
    bool bare_cr = false;  // a CR where only CRLF may stand
    bool bare_lf = false;  // a line (or the end of chunk data) ended by LF alone
    bool syntax = false;   // a chunk-size line not hex [chunk-ext]
    bool trailer_syntax = false;  // a trailer line that is not a field line
    uint64_t decoded = 0;  // chunk sizes read
};

ChunkCheck check_chunks(std::string_view body) {
    ChunkCheck check;
    std::size_t pos = 0;
    // One line; false when its LF has not arrived.
    auto next_line = [&](std::string_view& line) {
        std::size_t nl = body.find('\n', pos);
        if (nl == std::string_view::npos) {
            std::size_t cr = body.find('\r', pos);
            if (cr != std::string_view::npos && cr + 1 < body.size()) check.bare_cr = true;
            return false;
        }
        line = body.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line.back() != '\r') {
            check.bare_lf = true;
        } else {
            line.remove_suffix(1);
        }
        if (line.find('\r') != std::string_view::npos) check.bare_cr = true;
        return true;
    };
    for (;;) {
        std::string_view line;
        if (!next_line(line)) return check;
        std::size_t i = 0;
        uint64_t size = 0;
        for (; i < line.size() && hexdig(line[i]); ++i) {
            if (i == 16) {
                check.syntax = true;
                return check;
            }
            size = size * 16 + static_cast<uint64_t>(line[i] <= '9' ? line[i] - '0' : (line[i] | 32) - 'a' + 10);
        }
        if (i == 0) {
            check.syntax = true;
            return check;
        }
        check.decoded += size;
        if (!chunk_ext(line.substr(i))) check.syntax = true;
        if (size == 0) break;
        if (body.size() - pos < size) return check;
        pos += size;
        std::string_view end = body.substr(pos, 2);
        if (end.empty() || end == "\r") return check;
        if (end[0] == '\n') {
            check.bare_lf = true;
            pos += 1;
        } else if (end == "\r\n") {
            pos += 2;
        } else {
            (end[0] == '\r' ? check.bare_cr : check.syntax) = true;
            return check;
        }
    }
    for (;;) {
        std::string_view line;
        if (!next_line(line) || line.empty()) return check;
        // Trailer fields have the syntax of header fields (RFC 9112 7.1.2, 5).
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || !token(line.substr(0, colon))) check.trailer_syntax = true;
        for (unsigned char c : line.substr(colon == std::string_view::npos ? 0 : colon + 1)) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) check.trailer_syntax = true;
        }
    }
}

// What the rows below look at: one request's bytes read plainly.
struct Framing {
    RawHead head;
    std::string_view head_bytes;  // request line through the empty line (or all there is)
    std::vector<std::string_view> codings;
    ChunkCheck chunks;
    std::size_t after_head = 0;  // bytes after the head
    bool chunked() const { return !codings.empty(); }
    // A CR not followed by LF where a line ends: in the head, or in a chunk
    // line. (In chunk data or a Content-Length body a CR is just a byte.)
    bool bare_cr() const {
        for (std::size_t i = 0; i < head_bytes.size(); ++i) {
            if (head_bytes[i] == '\r' && i + 1 < head_bytes.size() && head_bytes[i + 1] != '\n') return true;
        }
        return chunks.bare_cr;
    }

    explicit Framing(std::string_view bytes) : head(bytes) {
        head_bytes = bytes.substr(head.start, (head.end ? head.end : bytes.size()) - head.start);
        codings = transfer_codings(head);
        if (head.end) {
            after_head = bytes.size() - head.end;
            if (chunked()) chunks = check_chunks(bytes.substr(head.end));
        }
    }
};

// ------------------------------------------------ the deliberate differences

// Rows of docs/fuzzing.md where kerberus refuses what http-parser takes
// (or has not refused yet). `bytes` runs from the end of the previous
// request to where http-parser ended this one, or to the end of the input.
std::optional<std::string> kerberus_refuses_on_purpose(std::string_view bytes, int status,
                                                       const kerberus::fuzz::FuzzInput& in) {
    Framing f(bytes);
    const RawHead& head = f.head;
    // Limits (RFC 9110 15.5.14, RFC 6585 5).
    if (status == 431 && f.head_bytes.size() > in.limits.max_head) return "head over max_head";
    if (status == 431 && f.chunked() && f.after_head > in.limits.max_head) return "trailers over max_head";
    // Lines after the request line, the blank one included: at least one
    // more than the fields.
    if (status == 431 && static_cast<std::size_t>(std::count(f.head_bytes.begin(), f.head_bytes.end(), '\n')) >
                             in.limits.max_fields) {
        return "more fields than max_fields (Apache's LimitRequestFields)";
    }
    if (status == 400 && head.blank > in.limits.max_head) return "blank lines over max_head";
    if (status == 400 && f.chunked() && head.longest_line > 4096) return "chunk line over 4096 bytes";
    if (status == 413) {
        for (std::string_view v : head.values("content-length")) {
            uint64_t length = 0;
            for (char c : v.substr(0, 19)) length = length * 10 + static_cast<uint64_t>(c - '0');
            if (length > in.limits.max_body) return "Content-Length over max_body";
        }
        if (f.chunks.decoded > in.limits.max_body) return "chunked body over max_body";
    }
    // kerberus refuses a bare CR once the line holding it has ended; until
    // then the head (or trailer section) goes on and may outgrow max_head.
    if ((status == 400 || status == 431) && f.bare_cr()) return "bare CR (RFC 9112 2.2)";
    if (head.request_line.empty() && head.end == 0) return std::nullopt;
    if (status == 400 && !head.strict_request_line()) return "request-line not method SP target SP version (RFC 9112 3)";
    if (status == 505 && head.strict_request_line() && head.version()[5] != '1') {
        return "HTTP major version other than 1 (RFC 9110 6.2, 15.6.6)";
    }
    if (status == 501 && token(head.method())) {
        std::string_view m = head.method();
        if (m != "GET" && m != "HEAD" && m != "POST" && m != "PUT" && m != "DELETE" && m != "PATCH" &&
            m != "OPTIONS" && m != "TRACE" && m != "CONNECT") {
            return "method kerberus does not implement (RFC 9110 9.1)";
        }
    }
    if (status == 400 && head.folded()) return "obsolete line folding (RFC 9112 5.2)";
    if (status == 400 && !head.strict_fields()) return "field line not name \":\" value (RFC 9112 5.1)";
    std::size_t hosts = head.values("host").size();
    if (status == 400 && (hosts > 1 || (hosts == 0 && !head.http10()))) return "Host missing or repeated (RFC 9112 3.2)";
    if (status == 400 && f.chunked() && head.http10()) return "Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1)";
    bool other_coding = false;
    std::size_t chunked_count = 0;
    for (std::string_view c : f.codings) {
        if (iequals(c, "chunked")) {
            ++chunked_count;
        } else {
            other_coding = true;
        }
    }
    if ((status == 501 || status == 400) && other_coding) return "transfer coding other than chunked (RFC 9112 6.1)";
    if (status == 400 && chunked_count > 1) return "chunked applied more than once (RFC 9112 6.1)";
    for (std::string_view v : head.values("transfer-encoding")) {
        if (status == 400 && v.find_first_not_of(", \t") == std::string_view::npos) {
            return "Transfer-Encoding field naming no coding (RFC 9112 6.3)";
        }
    }
    if (status == 400) {
        for (std::string_view v : head.values("content-length")) {
            if (v.size() > 19) return "Content-Length of more than 19 digits (RFC 9110 8.6)";
        }
    }
    if (status == 400 && f.chunks.syntax) return "chunk-size line syntax (RFC 9112 7.1)";
    if (status == 400 && f.chunks.trailer_syntax) return "trailer line not a field line (RFC 9112 7.1.2, 5)";
    if (status == 400 && f.chunks.bare_lf) return "chunk line or chunk data ended by a bare LF (RFC 9112 7.1)";
    return std::nullopt;
}

// Where http-parser ends a request that kerberus is still reading: the
// Debian build of http-parser is its non-strict one, which takes any byte
// after a CR as the LF that must follow it (RFC 9112 2.2: a bare CR is
// invalid). kerberus refuses such a head or chunk line once its line ends.
std::optional<std::string> http_parser_ends_early_on_purpose(std::string_view bytes) {
    if (Framing(bytes).bare_cr()) return "http-parser takes any byte after CR as LF (RFC 9112 2.2)";
    return std::nullopt;
}

// Rows where kerberus takes what http-parser refuses.
std::optional<std::string> kerberus_accepts_on_purpose(const RequestResult& k, const OracleResult& h,
                                                       std::string_view bytes) {
    std::size_t request_end = k.end;
    if (h.error == HPE_INVALID_URL || h.error == HPE_INVALID_HOST || h.error == HPE_INVALID_PATH ||
        h.error == HPE_INVALID_QUERY_STRING || h.error == HPE_INVALID_FRAGMENT || h.error == HPE_INVALID_PORT) {
        http_parser_url url;
        http_parser_url_init(&url);
        if (http_parser_parse_url(k.target.data(), k.target.size(), k.method == "CONNECT", &url) != 0) {
            return "request-target form left to the router (RFC 9112 3.2)";
        }
    }
    if (h.error == HPE_UNEXPECTED_CONTENT_LENGTH) {
        // kerberus accepted them, so each is a decimal of at most 19 digits.
        std::vector<uint64_t> lengths;
        bool te = false;
        for (const auto& [name, value] : k.fields) {
            if (iequals(name, "content-length")) {
                uint64_t n = 0;
                for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');
                lengths.push_back(n);
            }
            if (iequals(name, "transfer-encoding")) te = true;
        }
        bool same = lengths.size() > 1;
        for (uint64_t n : lengths) same = same && n == lengths.front();
        if (same && !te) return "repeated Content-Length of one value (RFC 9110 8.6)";
    }
    if (h.current.in_trailers && h.error_offset < request_end) return "trailer fields read past, not checked (RFC 9112 7.1.2)";
    RawHead head(bytes);
    if (h.error == HPE_INVALID_TRANSFER_ENCODING) {
        // "chunked," or ", chunked": http-parser refuses the empty element.
        bool empty_element = false;
        for (std::string_view v : head.values("transfer-encoding")) {
            for (std::size_t c = v.find(','); c != std::string_view::npos; c = v.find(',', c + 1)) {
                std::string_view before = trim(v.substr(0, c)), after = trim(v.substr(c + 1));
                if (before.empty() || after.empty() || after.front() == ',' || before.back() == ',') empty_element = true;
            }
        }
        if (empty_element) return "empty list elements ignored (RFC 9110 5.6.1)";
    }
    if (h.error == HPE_INVALID_CONTENT_LENGTH || h.error == HPE_INVALID_TRANSFER_ENCODING) {
        const char* field = h.error == HPE_INVALID_CONTENT_LENGTH ? "content-length" : "transfer-encoding";
        for (std::string_view line : head.lines) {
            std::size_t colon = line.find(':');
            if (colon != std::string_view::npos && iequals(line.substr(0, colon), field) &&
                line.substr(colon + 1).find('\t') != std::string_view::npos) {
                return "HTAB as whitespace around a Content-Length or Transfer-Encoding value (RFC 9110 5.5)";
            }
        }
    }
    if (h.error == HPE_INVALID_TRANSFER_ENCODING || h.error == HPE_UNEXPECTED_CONTENT_LENGTH) {
        // http-parser 2.9.4 marks Transfer-Encoding present once a field
        // name starts with it ("Transfer-Encodingx"), a defect of its own.
        for (const auto& [name, value] : k.fields) {
            if (name.size() > 17 && iequals(std::string_view(name).substr(0, 17), "transfer-encoding")) {
                return "http-parser takes a longer field name for Transfer-Encoding (its defect)";
            }
        }
    }
    return std::nullopt;
}

// ------------------------------------------------------------ comparison

std::string show(const RequestResult& r) {
    return r.method + " " + quoted(r.target, 80) + (r.http10 ? " HTTP/1.0" : "") + " ending at " +
           std::to_string(r.end) + ", body " + quoted(r.body, 60);
}

std::string show(const OracleRequest& r) {
    return r.method + " " + quoted(r.url, 80) + " HTTP/" + std::to_string(r.major) + "." + std::to_string(r.minor) +
           " ending at " + std::to_string(r.end) + ", body " + quoted(r.body, 60);
}

std::string show_end(const ConnectionResult& k) {
    switch (k.end) {
        case ConnectionResult::End::failed: return "refuses it: " + std::to_string(k.status) + " " + k.message;
        case ConnectionResult::End::closed: return "closed the connection";
        case ConnectionResult::End::all_read: return "waits for more bytes";
    }
    return "";
}

std::string show_end(const OracleResult& h) {
    switch (h.end) {
        case OracleResult::End::failed:
            return std::string("refuses it: ") + http_errno_name(h.error) + " at offset " +
                   std::to_string(h.error_offset);
        case OracleResult::End::mid: return "waits for more bytes";
        case OracleResult::End::idle: return "waits for the next request";
    }
    return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    kerberus::fuzz::FuzzInput in = kerberus::fuzz::read_input(data, size);
    ConnectionResult k = kerberus::fuzz::drive(in.payload, in.reads, in.limits);
    OracleResult h = oracle(in.payload, in.reads);
    auto bytes_from = [&](std::size_t from) { return "\n  bytes from offset " + std::to_string(from) + ": " + quoted(in.payload.substr(from), 600); };

    std::size_t n = std::min(k.requests.size(), h.requests.size());
    for (std::size_t i = 0; i < n; ++i) {
        const RequestResult& kr = k.requests[i];
        const OracleRequest& hr = h.requests[i];
        std::size_t from = i == 0 ? 0 : k.requests[i - 1].end;
        std::string both = "request " + std::to_string(i) + "\n  kerberus:    " + show(kr) + "\n  http-parser: " +
                           show(hr) + bytes_from(from);
        // http-parser ends a CONNECT at its head: what follows is the tunnel.
        bool connect = hr.upgrade && hr.method == "CONNECT";
        if (kr.end != hr.end && !connect) finding("request boundaries differ: a request could be smuggled", both);
        if (kr.method != hr.method || kr.target != hr.url || kr.http10 != (hr.major == 1 && hr.minor == 0) ||
            (kr.body != hr.body && !connect)) {
            finding("the parsers read the same request differently", both);
        }
        // kerberus reads no further after a request that closes the
        // connection; http-parser none after CONNECT or an upgrade.
        if (!kr.keep_alive || hr.upgrade) return 0;
    }

    std::size_t from = n == 0 ? 0 : k.requests[n - 1].end;
    std::string which = "request " + std::to_string(n);
    if (k.requests.size() > n) {
        const RequestResult& kr = k.requests[n];
        std::string what = which + "\n  kerberus:    " + show(kr) + "\n  http-parser " + show_end(h) + bytes_from(from);
        if (h.end == OracleResult::End::failed && h.error_offset <= kr.end) {
            if (kerberus_accepts_on_purpose(kr, h, in.payload.substr(from, kr.end - from))) return 0;
            finding("kerberus accepts a request http-parser refuses, and no listed difference explains it", what);
        }
        finding("request boundaries differ: kerberus ends a request where http-parser reads on", what);
    }
    if (h.requests.size() > n) {
        const OracleRequest& hr = h.requests[n];
        std::string what = which + "\n  kerberus " + show_end(k) + "\n  http-parser: " + show(hr) + bytes_from(from);
        std::string_view bytes = in.payload.substr(from, hr.end - from);
        // After CONNECT http-parser tunnels; kerberus has no tunnels and
        // reads on as HTTP, a body included (RFC 9110 9.3.6 gives CONNECT
        // content no meaning), so nothing after the head compares.
        if (hr.upgrade && hr.method == "CONNECT") return 0;
        if (k.end == ConnectionResult::End::failed) {
            if (kerberus_refuses_on_purpose(bytes, k.status, in)) return 0;
            finding("kerberus refuses a request http-parser accepts, and no listed difference explains it", what);
        }
        if (http_parser_ends_early_on_purpose(bytes)) return 0;
        finding("request boundaries differ: http-parser ends a request where kerberus reads on", what);
    }
    if (k.end == ConnectionResult::End::failed && h.end != OracleResult::End::failed) {
        if (kerberus_refuses_on_purpose(in.payload.substr(from), k.status, in)) return 0;
        finding("kerberus refuses bytes http-parser has not refused, and no listed difference explains it",
                which + "\n  kerberus " + show_end(k) + "\n  http-parser " + show_end(h) + bytes_from(from));
    }
    return 0;
}
