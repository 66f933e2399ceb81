#include "upstream_server.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace kerberus::test {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Reads are sliced so a stopping server is noticed within this.
constexpr milliseconds kPollSlice{50};
constexpr std::size_t kMaxHeaders = 200;
constexpr std::size_t kMaxChunkLine = 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// True if a comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        auto comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
    T value{};
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

std::string echo_json(const UpstreamRequest& request) {
    std::string out = "{\"method\":" + json_escape(request.method) + ",\"target\":" + json_escape(request.target) +
                      ",\"headers\":[";
    for (std::size_t i = 0; i < request.headers.size(); ++i) {
        if (i) out += ',';
        out += '[' + json_escape(request.headers[i].first) + ',' + json_escape(request.headers[i].second) + ']';
    }
    out += "],\"body\":" + json_escape(request.body) + "}";
    return out;
}

const char* reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

// Buffered reads from one connection, every one bounded by a deadline and
// abandoned when the server stops.
class Reader {
public:
    Reader(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

    // Appends at least one byte; false on EOF, error, timeout or stop.
    bool fill(Clock::time_point deadline) {
        while (!stopping_.load()) {
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(std::min(left, kPollSlice).count()));
            if (r < 0 && errno != EINTR) return false;
            if (r <= 0) continue;
            char chunk[64 * 1024];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        return false;
    }

    // A line without its CRLF; nullopt on failure or when longer than `max`.
    std::optional<std::string> line(std::size_t max, Clock::time_point deadline) {
        std::size_t eol;
        while ((eol = buffer_.find("\r\n")) == std::string::npos) {
            if (buffer_.size() > max || !fill(deadline)) return std::nullopt;
        }
        if (eol > max) return std::nullopt;
        std::string out = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        return out;
    }

    bool take(std::size_t count, std::string& out, Clock::time_point deadline) {
        while (buffer_.size() < count)
            if (!fill(deadline)) return false;
        out.append(buffer_, 0, count);
        buffer_.erase(0, count);
        return true;
    }

    std::string& buffer() { return buffer_; }

private:
    int fd_;
    const std::atomic<bool>& stopping_;
    std::string buffer_;
};

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

enum class HeadResult { ok, closed, too_large, malformed };

HeadResult read_head(Reader& reader, UpstreamRequest& request, Clock::time_point deadline) {
    std::size_t end;
    while ((end = reader.buffer().find("\r\n\r\n")) == std::string::npos) {
        if (reader.buffer().size() > UpstreamServer::kMaxHead) return HeadResult::too_large;
        if (!reader.fill(deadline)) return HeadResult::closed;
    }
    if (end > UpstreamServer::kMaxHead) return HeadResult::too_large;
    std::string head = reader.buffer().substr(0, end);
    reader.buffer().erase(0, end + 4);

    std::string_view rest(head);
    auto eol = rest.find("\r\n");
    std::string_view start = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
    auto sp1 = start.find(' ');
    auto sp2 = start.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2) return HeadResult::malformed;
    request.method = std::string(start.substr(0, sp1));
    request.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    request.version = std::string(start.substr(sp2 + 1));
    if (request.method.empty() || request.target.empty() || !request.version.starts_with("HTTP/1."))
        return HeadResult::malformed;

    while (!rest.empty()) {
        eol = rest.find("\r\n");
        std::string_view line = rest.substr(0, eol);
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return HeadResult::malformed;
        if (request.headers.size() >= kMaxHeaders) return HeadResult::too_large;
        request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
        if (eol == std::string_view::npos) break;
        rest.remove_prefix(eol + 2);
    }
    return HeadResult::ok;
}

bool read_chunked_body(Reader& reader, std::string& body, Clock::time_point deadline) {
    while (true) {
        auto size_line = reader.line(kMaxChunkLine, deadline);
        if (!size_line) return false;
        std::string_view digits(*size_line);
        digits = trim(digits.substr(0, digits.find(';')));
        auto size = parse_number<std::size_t>(digits, 16);
        if (!size || *size > UpstreamServer::kMaxBody - body.size()) return false;
        if (*size == 0) break;
        if (!reader.take(*size, body, deadline)) return false;
        std::string crlf;
        if (!reader.take(2, crlf, deadline) || crlf != "\r\n") return false;
    }
    // Trailer fields, ignored, up to the empty line.
    for (std::size_t total = 0;;) {
        auto trailer = reader.line(UpstreamServer::kMaxHead, deadline);
        if (!trailer) return false;
        if (trailer->empty()) return true;
        total += trailer->size();
        if (total > UpstreamServer::kMaxHead) return false;
    }
}

// /count and /slow-count: the body is counted as it is read, never kept
// (uploads larger than kMaxBody). `pause` is slept after each read: an
// upstream that reads slower than the client sends.
struct Counted {
    uint64_t bytes = 0;
    uint32_t sum = 0;  // of every byte, modulo 2^32
};

bool count_piece(Reader& reader, std::size_t size, Counted& counted, milliseconds pause) {
    while (size > 0) {
        if (reader.buffer().empty() && !reader.fill(Clock::now() + UpstreamServer::kIdleTimeout)) return false;
        std::size_t take = std::min(size, reader.buffer().size());
        for (std::size_t i = 0; i < take; ++i) counted.sum += static_cast<unsigned char>(reader.buffer()[i]);
        reader.buffer().erase(0, take);
        counted.bytes += take;
        size -= take;
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
    return true;
}

bool count_body(Reader& reader, const UpstreamRequest& request, Counted& counted, milliseconds pause) {
    if (auto te = request.header("Transfer-Encoding")) {
        for (;;) {
            auto size_line = reader.line(kMaxChunkLine, Clock::now() + UpstreamServer::kIdleTimeout);
            if (!size_line) return false;
            std::string_view digits(*size_line);
            auto size = parse_number<std::size_t>(trim(digits.substr(0, digits.find(';'))), 16);
            if (!size) return false;
            if (*size == 0) return reader.line(kMaxChunkLine, Clock::now() + UpstreamServer::kIdleTimeout).has_value();
            if (!count_piece(reader, *size, counted, pause)) return false;
            std::string crlf;
            if (!reader.take(2, crlf, Clock::now() + UpstreamServer::kIdleTimeout) || crlf != "\r\n") return false;
        }
    }
    auto length = parse_number<std::size_t>(request.header("Content-Length").value_or("0"));
    return length && count_piece(reader, *length, counted, pause);
}

// RFC 6455 4.2.2: base64(SHA-1(key + the protocol's GUID)).
std::string websocket_accept(std::string_view key) {
    std::string input(key);
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string status_line(int status) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
}

std::string simple_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                            bool head_only) {
    std::string out = status_line(status);
    out += "Content-Type: " + std::string(content_type) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    if (!head_only) out += body;
    return out;
}

// The number in a path ending in `/<word>/<digits>`, so special targets work
// below any prefix a proxy puts in front ("/base/status/404").
template <typename T>
std::optional<T> number_after(std::string_view path, std::string_view word) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view head = path.substr(0, slash);
    std::string marker = "/" + std::string(word);
    if (!head.ends_with(marker)) return std::nullopt;
    return parse_number<T>(path.substr(slash + 1));
}

}  // namespace

std::string untyped_body(std::size_t size) {
    std::string body(size, '\0');
    uint32_t seed = 7;
    for (auto& c : body) {
        seed = seed * 1664525u + 1013904223u;
        c = static_cast<char>(seed >> 24);
    }
    return body;
}

namespace {

bool ends_with_segment(std::string_view path, std::string_view segment) {
    return path.ends_with("/" + std::string(segment));
}

}  // namespace

std::optional<std::string> UpstreamRequest::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

std::vector<std::string> UpstreamRequest::header_values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) out.push_back(v);
    return out;
}

UpstreamServer::UpstreamServer() {
    if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 256) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::string error = std::strerror(errno);
        if (listen_fd_ >= 0) ::close(listen_fd_);
        ::close(wake_pipe_[0]);
        ::close(wake_pipe_[1]);
        throw std::runtime_error("upstream server cannot listen: " + error);
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

UpstreamServer::~UpstreamServer() {
    stopping_ = true;
    char byte = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_pipe_[1], &byte, 1);
    {
        std::lock_guard lock(mutex_);
        // Wakes readers and writers at once; the descriptors stay open (and
        // their numbers unused by anyone else) until their threads are joined.
        for (auto& c : live_) ::shutdown(c->fd, SHUT_RDWR);
    }
    changed_.notify_all();
    acceptor_.join();
    std::list<std::unique_ptr<Connection>> remaining;
    {
        std::lock_guard lock(mutex_);
        remaining.swap(live_);
    }
    for (auto& c : remaining) {
        ::shutdown(c->fd, SHUT_RDWR);
        c->thread.join();
        ::close(c->fd);
    }
    ::close(listen_fd_);
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
}

std::string UpstreamServer::url(std::string_view path) const { return "http://" + authority() + std::string(path); }

std::string UpstreamServer::authority() const { return "127.0.0.1:" + std::to_string(port_); }

std::optional<UpstreamRequest> UpstreamServer::last_request() const {
    std::lock_guard lock(mutex_);
    if (recorded_.empty()) return std::nullopt;
    return recorded_.back();
}

std::vector<UpstreamRequest> UpstreamServer::all_requests() const {
    std::lock_guard lock(mutex_);
    return recorded_;
}

bool UpstreamServer::wait_for_requests(std::size_t count, milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.load() >= count; });
}

void UpstreamServer::record(UpstreamRequest request) {
    {
        std::lock_guard lock(mutex_);
        if (recorded_.size() < kMaxRecorded) recorded_.push_back(std::move(request));
        ++requests_;
    }
    changed_.notify_all();
}

bool UpstreamServer::sleep_unless_stopping(milliseconds duration) {
    std::unique_lock lock(mutex_);
    return !changed_.wait_for(lock, duration, [&] { return stopping_.load(); });
}

void UpstreamServer::reap_finished() {
    std::list<std::unique_ptr<Connection>> done;
    {
        std::lock_guard lock(mutex_);
        for (auto it = live_.begin(); it != live_.end();) {
            auto next = std::next(it);
            if ((*it)->finished.load()) done.splice(done.end(), live_, it);
            it = next;
        }
    }
    for (auto& c : done) {
        c->thread.join();
        ::close(c->fd);
    }
}

void UpstreamServer::accept_loop() {
    while (!stopping_.load()) {
        reap_finished();
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
        int r = ::poll(fds, 2, 1000);
        if (r <= 0 || (fds[1].revents & POLLIN)) continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        // Sends block at most this long on a client that stopped reading.
        timeval send_timeout{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);

        std::lock_guard lock(mutex_);
        if (stopping_.load() || live_.size() >= kMaxConnections) {
            ::close(fd);
            continue;
        }
        auto connection = std::make_unique<Connection>();
        connection->fd = fd;
        Connection* raw = connection.get();
        live_.push_back(std::move(connection));
        raw->thread = std::thread([this, raw] {
            serve(*raw);
            raw->finished = true;
        });
    }
}

void UpstreamServer::serve(Connection& connection) {
    const int fd = connection.fd;
    Reader reader(fd, stopping_);
    bool drop_next = false;  // set by /close-next
    for (std::size_t served = 0; served < kMaxRequestsPerConnection && !stopping_.load(); ++served) {
        if (drop_next) {
            // Closes as the next request arrives, before answering anything.
            if (reader.buffer().empty()) reader.fill(Clock::now() + kIdleTimeout);
            break;
        }
        UpstreamRequest request;
        auto head = read_head(reader, request, Clock::now() + kIdleTimeout);
        if (head == HeadResult::closed) break;
        if (head != HeadResult::ok) {
            int status = head == HeadResult::too_large ? 431 : 400;
            send_all(fd, simple_response(status, "text/plain", "bad request\n", false, false));
            break;
        }

        auto body_deadline = Clock::now() + kIdleTimeout;
        auto te = request.header("Transfer-Encoding");
        auto cl = request.header("Content-Length");
        if (auto expect = request.header("Expect"); expect && iequals(*expect, "100-continue")) {
            if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) break;
        }
        const std::string target_path = request.target.substr(0, request.target.find('?'));
        const bool counting = target_path.ends_with("/count") || target_path.ends_with("/slow-count");
        Counted counted;
        bool body_ok = true;
        if (counting) {
            request.chunked = te.has_value();
            body_ok = count_body(reader, request, counted,
                                 target_path.ends_with("/slow-count") ? milliseconds(2) : milliseconds(0));
        } else if (te) {
            request.chunked = has_token(*te, "chunked");
            body_ok = request.chunked && read_chunked_body(reader, request.body, body_deadline);
        } else if (cl) {
            auto length = parse_number<std::size_t>(*cl);
            body_ok = length && *length <= kMaxBody && reader.take(*length, request.body, body_deadline);
        }
        if (!body_ok) {
            send_all(fd, simple_response(400, "text/plain", "bad body\n", false, false));
            break;
        }

        auto connection_header = request.header("Connection").value_or("");
        bool keep_alive = request.version == "HTTP/1.1" ? !has_token(connection_header, "close")
                                                        : has_token(connection_header, "keep-alive");
        keep_alive = keep_alive && served + 1 < kMaxRequestsPerConnection;
        const bool head_only = request.method == "HEAD";
        const std::string path = request.target.substr(0, request.target.find('?'));
        std::string echo = echo_json(request);
        const std::optional<std::string> ws_key = request.header("Sec-WebSocket-Key");
        const std::optional<std::string> ws_protocols = request.header("Sec-WebSocket-Protocol");
        record(std::move(request));

        bool sent = true;
        if (std::optional<Document> doc = document(path)) {
            sent = send_all(fd, simple_response(200, doc->content_type, doc->body, keep_alive, head_only));
        } else if (path.ends_with("/ws-echo") || path.ends_with("/ws-hello")) {
            const auto& key = ws_key;
            if (!key) {
                sent = send_all(fd, simple_response(426, "text/plain", "WebSocket only\n", keep_alive, head_only));
                continue;
            }
            std::string out = status_line(101);
            out += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + websocket_accept(*key) + "\r\n";
            if (const auto& protocols = ws_protocols)
                out += "Sec-WebSocket-Protocol: " + protocols->substr(0, protocols->find(',')) + "\r\n";
            out += "X-Not-For-The-Client: 1\r\n\r\n";
            if (path.ends_with("/ws-hello")) out += kWebSocketHello;
            if (!send_all(fd, out)) break;
            // Raw bytes back as they come (frames pass through unchanged)
            // until the other side ends; then this side ends too.
            std::string& pending = reader.buffer();
            while (!stopping_.load()) {
                if (!pending.empty() && !send_all(fd, pending)) break;
                pending.clear();
                if (!reader.fill(Clock::now() + kIdleTimeout)) break;
            }
            break;
        } else if (counting) {
            std::string json = "{\"bytes\":" + std::to_string(counted.bytes) + ",\"sum\":" + std::to_string(counted.sum) + "}";
            sent = send_all(fd, simple_response(200, "application/json", json, keep_alive, head_only));
        } else if (auto status = number_after<int>(path, "status"); status && *status >= 200 && *status <= 599) {
            std::string out = status_line(*status);
            out += "Content-Type: application/json\r\n";
            for (const auto& [name, value] : kStatusHeaders)
                out += std::string(name) + ": " + std::string(value) + "\r\n";
            out += keep_alive ? "Connection: X-Hop\r\n" : "Connection: close, X-Hop\r\n";
            bool bodiless = *status == 204 || *status == 304;
            if (!bodiless) out += "Content-Length: " + std::to_string(echo.size()) + "\r\n";
            out += "\r\n";
            if (!bodiless && !head_only) out += echo;
            sent = send_all(fd, out);
        } else if (auto ms = number_after<long>(path, "sleep")) {
            std::size_t now_sleeping = ++sleeping_;
            for (std::size_t peak = peak_sleeping_.load(); now_sleeping > peak;) {
                if (peak_sleeping_.compare_exchange_weak(peak, now_sleeping)) break;
            }
            bool slept = sleep_unless_stopping(std::min(milliseconds(*ms), kMaxSleep));
            --sleeping_;
            if (!slept) break;
            sent = send_all(fd, simple_response(200, "application/json", echo, keep_alive, head_only));
        } else if (auto bytes = number_after<std::size_t>(path, "big"); bytes && *bytes <= kMaxBig) {
            std::string out = status_line(200) + "Content-Type: application/octet-stream\r\nContent-Length: " +
                              std::to_string(*bytes) + "\r\n" + (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
            sent = send_all(fd, out);
            const std::string piece(64 * 1024, 'x');
            for (std::size_t left = head_only ? 0 : *bytes; sent && left > 0;) {
                std::size_t n = std::min(left, piece.size());
                sent = send_all(fd, std::string_view(piece).substr(0, n));
                left -= n;
            }
        } else if (auto chunks = number_after<std::size_t>(path, "big-chunked"); chunks && *chunks <= kMaxBig) {
            // /big-chunked/<n>: n bytes of 'y' in 64 KiB chunks, length unknown.
            std::string out = status_line(200) + "Content-Type: application/octet-stream\r\n"
                              "Transfer-Encoding: chunked\r\n" + (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
            sent = send_all(fd, out);
            const std::string piece(64 * 1024, 'y');
            for (std::size_t left = head_only ? 0 : *chunks; sent && left > 0;) {
                std::size_t n = std::min(left, piece.size());
                char size[32];
                auto [end, ec] = std::to_chars(size, size + sizeof size, n, 16);
                (void)ec;
                sent = send_all(fd, std::string(size, end) + "\r\n") &&
                       send_all(fd, std::string_view(piece).substr(0, n)) && send_all(fd, "\r\n");
                left -= n;
            }
            if (sent && !head_only) sent = send_all(fd, "0\r\n\r\n");
        } else if (auto cut = number_after<std::size_t>(path, "broken"); cut && *cut <= kMaxBig) {
            // /broken/<n>: states twice n bytes, sends n, then closes.
            std::string out = status_line(200) + "Content-Type: application/octet-stream\r\nContent-Length: " +
                              std::to_string(2 * *cut) + "\r\n\r\n" + std::string(*cut, 'z');
            send_all(fd, out);
            break;
        } else if (auto untyped = number_after<std::size_t>(path, "untyped"); untyped && *untyped <= kMaxBig) {
            std::string out = status_line(200) + "Content-Length: " + std::to_string(*untyped) + "\r\n" +
                              (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
            if (!head_only) out += untyped_body(*untyped);
            sent = send_all(fd, out);
        } else if (ends_with_segment(path, "close-delimited")) {
            std::string out = status_line(200) + "Content-Type: text/plain\r\nConnection: close\r\n\r\n";
            if (!head_only) out += kCloseDelimitedBody;
            send_all(fd, out);
            break;
        } else if (ends_with_segment(path, "then-close")) {
            send_all(fd, simple_response(200, "application/json", echo, true, head_only));
            break;
        } else if (ends_with_segment(path, "close-next")) {
            sent = send_all(fd, simple_response(200, "application/json", echo, keep_alive, head_only));
            drop_next = true;
        } else if (ends_with_segment(path, "bad-length")) {
            send_all(fd, status_line(200) + "Content-Type: text/plain\r\nContent-Length: 12abc\r\n\r\nxxxxxxxxxxxx");
            break;
        } else if (ends_with_segment(path, "chunked")) {
            std::string out = status_line(200) + "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n" +
                              (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
            sent = send_all(fd, out);
            std::string_view body = head_only ? std::string_view() : kChunkedBody;
            // Split at '|' so the pieces arrive as separate chunks and writes.
            while (sent && !body.empty()) {
                auto bar = body.find('|');
                std::string_view piece = body.substr(0, bar == std::string_view::npos ? body.size() : bar + 1);
                char size[32];
                auto [end, ec] = std::to_chars(size, size + sizeof size, piece.size(), 16);
                (void)ec;
                sent = send_all(fd, std::string(size, end) + "\r\n" + std::string(piece) + "\r\n");
                body.remove_prefix(piece.size());
            }
            if (sent) sent = send_all(fd, "0\r\n\r\n");
        } else {
            sent = send_all(fd, simple_response(200, "application/json", echo, keep_alive, head_only));
        }
        if (!sent || !keep_alive) break;
    }
    ::shutdown(fd, SHUT_RDWR);
}

uint16_t unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    uint16_t port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0) ::close(fd);
    if (port == 0) throw std::runtime_error("no free loopback port");
    return port;
}

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
    return out;
}

void UpstreamServer::set_document(std::string path, std::string content_type, std::string body) {
    std::lock_guard lock(documents_mutex_);
    documents_[std::move(path)] = Document{std::move(content_type), std::move(body)};
}

std::optional<UpstreamServer::Document> UpstreamServer::document(const std::string& path) const {
    std::lock_guard lock(documents_mutex_);
    auto it = documents_.find(path);
    if (it == documents_.end()) return std::nullopt;
    return it->second;
}

}  // namespace kerberus::test
