#include "http/wire.h"

#include <charconv>
#include <ctime>
#include <mutex>

#include "common/time_text.h"
#include "http/http_connection.h"

namespace kerberus::http {
namespace {

// RFC 9110 section 15's reason phrases, with RFC 6585's (428, 429, 431,
// 511) and RFC 7725's 451. A reason phrase carries no meaning (RFC 9112
// 4): an unlisted code gets its class's.
const char* reason_phrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 203: return "Non-Authoritative Information";
        case 204: return "No Content";
        case 205: return "Reset Content";
        case 206: return "Partial Content";
        case 300: return "Multiple Choices";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 305: return "Use Proxy";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 402: return "Payment Required";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 407: return "Proxy Authentication Required";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 422: return "Unprocessable Content";
        case 426: return "Upgrade Required";
        case 428: return "Precondition Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 451: return "Unavailable For Legal Reasons";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        case 511: return "Network Authentication Required";
        default:
            return status < 200 ? "Informational" : status < 300 ? "Success" : status < 400 ? "Redirection"
                 : status < 500 ? "Client Error" : "Server Error";
    }
}

// The Date header changes once a second; each worker formats it once then.
std::string_view http_date() {
    thread_local SecondStamp stamp("%a, %d %b %Y %H:%M:%S GMT");
    return stamp.now();
}

void append_number(std::string& out, std::size_t n) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    (void)ec;
    out.append(digits, end);
}

}  // namespace

ResponseFraming response_framing(bool head_request, int status, std::size_t body_size,
                                 std::optional<uint64_t> stated_length) {
    if (status < 200 || status == 204) return {false, std::nullopt};
    if (status == 205) return {false, 0};
    if (status == 304) return {false, stated_length};
    if (head_request) return {false, stated_length ? stated_length : std::optional<uint64_t>(body_size)};
    return {true, body_size};
}

void format_response(std::string& out, bool http10, int status, const HeaderBlock& headers, std::string_view body,
                     const ResponseFraming& framing, std::string_view request_id) {
    out.clear();
    out.reserve(160 + headers.lines().size() + (framing.send_body ? body.size() : 0));
    out.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out, static_cast<std::size_t>(status));
    out.push_back(' ');
    out.append(reason_phrase(status));
    out.append("\r\nConnection: ").append(headers.connection());
    out.append(headers.lines());
    if (!request_id.empty()) out.append("\r\nX-Request-Id: ").append(request_id);
    out.append("\r\nDate: ").append(http_date());
    if (framing.content_length) {
        out.append("\r\nContent-Length: ");
        append_number(out, *framing.content_length);
    } else if (framing.chunked) {
        out.append("\r\nTransfer-Encoding: chunked");
    }
    out.append("\r\n\r\n");
    if (framing.send_body) out.append(body);
}

void write_response(const Connection& to, std::string& bytes, bool close, bool interim) {
    if (!to.socket) return;
    std::lock_guard lock(to.socket->write_mutex());
    write_response_locked(to, bytes, close, interim);
}

void write_response_locked(const Connection& to, std::string& bytes, bool close, bool interim) {
    if (!interim) {
        to.http->answers_written.fetch_add(1, std::memory_order_release);
        if (to.http->close_after_answer) close = true;
    }
    to.socket->write_locked(bytes, close);
}

}  // namespace kerberus::http
