#include "http/exchange.h"

#include <charconv>
#include <cstring>
#include <random>

#include <utility>

#include "http/dispatcher.h"
#include "http/error_body.h"
#include "http/http_connection.h"
#include "http/path.h"
#include "metrics/registry.h"
#include "plugins/plugin_instance.h"
#include "common/http_syntax.h"

namespace kerberus::http {
namespace {

constexpr std::size_t kKeptWireBuffer = 64 * 1024;

using http_syntax::iequals;
using http_syntax::is_field_value;
using http_syntax::is_token;

// Splits "a=1&b=2" lazily; calls f(raw_name, raw_value) until it returns true.
template <typename F>
void for_each_query_pair(std::string_view q, F&& f) {
    while (!q.empty()) {
        std::size_t amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (pair.empty()) continue;
        std::size_t eq = pair.find('=');
        std::string_view name = pair.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        if (f(name, value)) return;
    }
}

// RFC 9110 puts no rule on X-Request-Id; this is what ids in the wild use
// (UUIDs, hex, base64), short enough for a log line.
bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 200) return false;
    for (unsigned char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("-._~:/+=@").find(static_cast<char>(c)) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// 32 hex digits: a per-thread prefix drawn at random once (the process and
// thread), then the thread's own count; unique without a shared counter.
// The count is kept as hex text and incremented in place, like an odometer:
// a few instructions per request instead of formatting 32 digits.
std::string_view make_request_id(char (&out)[32]) {
    struct Counter {
        char digits[32];
        Counter() {
            std::random_device random;
            uint64_t prefix = (static_cast<uint64_t>(random()) << 32) ^ random();
            static constexpr char kHex[] = "0123456789abcdef";
            for (int i = 15; i >= 0; --i) {
                digits[i] = kHex[prefix & 0xf];
                prefix >>= 4;
            }
            std::memset(digits + 16, '0', 16);
        }
        void next() {
            for (int i = 31; i >= 16; --i) {
                char& d = digits[i];
                if (d == '9') {
                    d = 'a';
                    return;
                }
                if (d != 'f') {
                    ++d;
                    return;
                }
                d = '0';  // carry into the next digit
            }
        }
    };
    thread_local Counter counter;
    counter.next();
    std::memcpy(out, counter.digits, sizeof out);
    return std::string_view(out, sizeof out);
}

bool needs_decoding(std::string_view s) { return s.find_first_of("%+") != std::string_view::npos; }

}  // namespace

void Exchange::begin(const ParsedRequest& request, Connection to, std::string_view remote, bool keep_alive) {
    state.store(State::handling, std::memory_order_relaxed);
    plugin = nullptr;
    head_.assign(request.head);
    auto rebase = [&](std::string_view v) {
        return std::string_view(head_.data() + (v.data() - request.head.data()), v.size());
    };
    method_ = rebase(request.method);
    target_ = rebase(request.target);
    split_target(target_, raw_path_, query_);
    fields_.resize(request.fields.size());
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        fields_[i] = HeaderField{rebase(request.fields[i].name), rebase(request.fields[i].value)};
    }
    body_.assign(request.body);
    if (arriving_body_) arriving_body_.reset();
    streamed_body_route_ = false;
    // A plain load first: this runs for every request, and only streamed
    // bodies that arrived whole ever set it.
    if (held_body_used_.load(std::memory_order_relaxed)) {
        held_body_used_.store(false, std::memory_order_relaxed);
        held_body_.store(nullptr);
        stopped_held_body_.reset();
    }
    remote_.assign(remote);
    caller_.clear();
    if (request.request_id_field >= 0 && valid_request_id(fields_[request.request_id_field].value)) {
        request_id_ = fields_[request.request_id_field].value;
    } else {
        request_id_ = make_request_id(generated_id_);
    }
    has_request_id_header_ = false;
    path_.clear();
    prefix_length_ = 0;
    params_.clear();
    decoded_.clear();
    to_ = std::move(to);
    keep_alive_ = keep_alive;
    block_.reset(keep_alive ? "keep-alive" : "close");
    has_content_type_ = false;
    stated_length_.reset();
    route_stats_ = nullptr;
    route_method_ = route_pattern_ = {};
    if (streaming_.load(std::memory_order_relaxed)) {
        streaming_.store(false, std::memory_order_relaxed);
        stream_ = Stream{};
    }
    arrived_ = std::chrono::steady_clock::now();
    request_bytes_ = request.size;
    method_index_ = metrics::method_index(method_);
}

void Exchange::begin_rejection(Connection to, std::string_view method, std::string_view target) {
    state.store(State::responded, std::memory_order_relaxed);
    head_.assign(method).append(target);
    method_ = std::string_view(head_).substr(0, method.size());
    target_ = std::string_view(head_).substr(method.size());
    raw_path_ = query_ = {};
    if (!target.empty()) split_target(std::string_view(head_).substr(method.size()), raw_path_, query_);
    remote_.assign(to.socket ? std::string_view(to.socket->remote()) : std::string_view());
    to_ = std::move(to);
    keep_alive_ = false;
    plugin = nullptr;
    route_stats_ = nullptr;
    route_method_ = route_pattern_ = {};
    arrived_ = std::chrono::steady_clock::now();
    request_bytes_ = 0;
    request_id_ = make_request_id(generated_id_);
    has_request_id_header_ = false;
}

std::optional<std::string_view> Exchange::header(std::string_view name) const {
    for (const HeaderField& field : fields_) {
        if (iequals(field.name, name)) return field.value;
    }
    return std::nullopt;
}

std::string_view Exchange::relative_path() const {
    std::string_view p(path_);
    p.remove_prefix(prefix_length_);
    return p.empty() ? std::string_view("/") : p;
}

void Exchange::unescape_params() {
    for (std::size_t i = 0; i < params_.count; ++i) {
        std::string_view& value = params_.items[i].value;
        if (value.find('%') == std::string_view::npos) continue;
        std::string& decoded = decoded_.emplace_back();
        unescape_kept(value, decoded);
        value = decoded;
    }
}

std::optional<std::string_view> Exchange::param(std::string_view name) const {
    for (std::size_t i = 0; i < params_.count; ++i) {
        if (params_.items[i].name == name) return params_.items[i].value;
    }
    return std::nullopt;
}

std::optional<std::string_view> Exchange::query_param(std::string_view name) {
    std::optional<std::string_view> found;
    std::string scratch;
    for_each_query_pair(query_, [&](std::string_view raw_name, std::string_view raw_value) {
        std::string_view n = raw_name;
        if (needs_decoding(raw_name)) {
            if (!percent_decode(raw_name, scratch, true)) return false;
            n = scratch;
        }
        if (n != name) return false;
        if (!needs_decoding(raw_value)) {
            found = raw_value;
        } else {
            std::string decoded;
            if (!percent_decode(raw_value, decoded, true)) return false;
            found = decoded_.emplace_back(std::move(decoded));
        }
        return true;
    });
    return found;
}

int Exchange::visit_query(kerberus_visit_fn visit, void* user) {
    std::string name, value;
    int stop = 0;
    for_each_query_pair(query_, [&](std::string_view raw_name, std::string_view raw_value) {
        if (!percent_decode(raw_name, name, true) || !percent_decode(raw_value, value, true)) return false;
        stop = visit(user, kerberus_str{name.data(), name.size()}, kerberus_str{value.data(), value.size()});
        return stop != 0;
    });
    return stop;
}

kerberus_status Exchange::add_response_header(std::string_view name, std::string_view value) {
    if (!is_token(name) || !is_field_value(value)) return KERBERUS_ERR_INVALID;
    // Framing headers are the host's: a plugin setting them could desync
    // the connection for the next request. A stated Content-Length is what
    // a HEAD or 304 answer reports (a relayed one, say); the host writes
    // the header itself, once: a later statement replaces an earlier one.
    if (iequals(name, "content-length")) {
        uint64_t n = 0;
        if (value.empty() || value.size() > 18) return KERBERUS_ERR_INVALID;
        for (char c : value) {
            if (c < '0' || c > '9') return KERBERUS_ERR_INVALID;
            n = n * 10 + static_cast<uint64_t>(c - '0');
        }
        stated_length_ = n;
        return KERBERUS_OK;
    }
    if (iequals(name, "connection") || iequals(name, "transfer-encoding")) return KERBERUS_ERR_INVALID;
    if (iequals(name, "content-type")) has_content_type_ = true;
    if (iequals(name, "x-request-id")) has_request_id_header_ = true;
    block_.add(name, value);
    return KERBERUS_OK;
}

bool Exchange::stated_length_fits(int status, std::size_t body_size) const {
    if (!stated_length_ || method_ == "HEAD") return true;
    return response_framing(false, status, body_size, stated_length_).send_body ? *stated_length_ == body_size : true;
}

// What held_body_ holds once the request was answered.
const std::shared_ptr<RequestBody>& Exchange::answered_marker() {
    static const std::shared_ptr<RequestBody> marker = std::make_shared<RequestBody>(std::string());
    return marker;
}

kerberus_status Exchange::start_body(const kerberus_body_fns& fns, void* user_data) {
    if (!streamed_body_route_) return KERBERUS_ERR_STATE;
    if (arriving_body_) return arriving_body_->start(fns, user_data);
    // The body came whole with the head: delivered from memory, on the
    // worker as an arriving one would be.
    auto held = std::make_shared<RequestBody>(std::move(body_));
    body_.clear();
    held_body_used_.store(true);
    // Fails after a second call, and after the answer (see stop_body).
    std::shared_ptr<RequestBody> none;
    if (!held_body_.compare_exchange_strong(none, held)) return KERBERUS_ERR_STATE;
    held->set_wake([socket = to_.socket, body = std::weak_ptr<RequestBody>(held)] {
        socket->post([body] {
            if (std::shared_ptr<RequestBody> b = body.lock()) b->feed_held();
        });
    });
    return held->start(fns, user_data);
}

kerberus_status Exchange::resume_body() {
    if (arriving_body_) return arriving_body_->resume();
    std::shared_ptr<RequestBody> held = held_body_.load();
    return held && held != answered_marker() ? held->resume() : KERBERUS_ERR_STATE;
}

void Exchange::stop_body(bool wait) {
    std::shared_ptr<RequestBody> body = arriving_body_;
    if (!body && streamed_body_route_) {
        // The marker makes a start racing with this answer fail; the held
        // body (and the connection its delivery holds) goes now.
        held_body_used_.store(true);
        body = held_body_.exchange(answered_marker());
        if (body == answered_marker()) body = nullptr;
        if (body) stopped_held_body_ = body;
    }
    if (!body) return;
    // Stopped already (by a host answer that could not wait): not again.
    body->stop(wait && !body->finished());
    if (!body->fully_read()) close_after_response();
}

void Exchange::await_body_callbacks() {
    if (arriving_body_) arriving_body_->await_callbacks();
    if (stopped_held_body_) stopped_held_body_->await_callbacks();
}

void Exchange::send(int status, std::string_view body) {
    if (streaming()) {
        end_stream(stream_.cut || stream_short());
        return;
    }
    stop_body();
    // A body that is never sent (204, 205, 304) has no type to state.
    bool content = status != 204 && status != 205 && status != 304;
    if (!has_content_type_ && !body.empty() && content) block_.add("Content-Type", "text/plain; charset=utf-8");
    put_on_wire(block_, status, body);
}

void Exchange::send_host_error(metrics::HostReason reason, std::string_view message, std::string_view extra) {
    static metrics::HostErrors& unattributed = metrics::Registry::instance().host_errors("");
    (plugin != nullptr ? plugin->host_errors() : unattributed).add(reason);
    if (streaming()) {
        // The head is out: there is no answering any more, only cutting the
        // stream off so the client sees it incomplete.
        end_stream(true);
        return;
    }
    stop_body();
    int status = metrics::reason_status(reason);
    HeaderBlock headers;
    headers.reset(keep_alive_ ? "keep-alive" : "close");
    headers.add("Content-Type", "application/json");
    if (!extra.empty()) headers.add(reason == metrics::HostReason::method_not_allowed ? "Allow" : "WWW-Authenticate", extra);
    put_on_wire(headers, status, error_body(status, message, method_, raw_path_));
}

void Exchange::put_on_wire(const HeaderBlock& headers, int status, std::string_view body) {
    // Only the plugin's own headers can state a length; the host's errors
    // are as long as their body.
    ResponseFraming framing = response_framing(method_ == "HEAD", status, body.size(),
                                               &headers == &block_ ? stated_length_ : std::nullopt);
    // Answers given on a worker go out before this returns, so each thread
    // formats into one buffer it keeps.
    thread_local std::string wire;
    format_response(wire, to_.http10, status, headers, body, framing,
                    &headers == &block_ && has_request_id_header_ ? std::string_view() : request_id_);
    record_answer(status, wire.size());
    write_response(to_, wire, !keep_alive_);
    // A large answer's buffer is not worth keeping per thread.
    if (wire.capacity() > kKeptWireBuffer) std::string().swap(wire);
    to_.socket.reset();
}

void Exchange::record_answer(int status, std::size_t wire_bytes) {
    AccessLog* access_log = dispatcher != nullptr ? dispatcher->access_log() : nullptr;
    if (route_stats_ == nullptr && access_log == nullptr) return;
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - arrived_);
    if (route_stats_ != nullptr) {
        route_stats_->answered(method_index_, status, request_bytes_, wire_bytes, static_cast<uint64_t>(took.count()));
    }
    if (access_log != nullptr) {
        access_log->record(AccessEntry{remote_, method_, target_, to_.http10, status, wire_bytes,
                                       static_cast<double>(took.count()) * 1e-9,
                                       plugin != nullptr ? std::string_view(plugin->id()) : std::string_view(),
                                       request_id_});
    }
}

void Exchange::start_stream(int status, int64_t content_length, kerberus_stream_event_fn on_event,
                            void* user_data) {
    Stream& s = stream_;
    s.status = status;
    const bool head = method_ == "HEAD";
    // A Content-Length the plugin added stands in for an unknown length.
    const std::optional<uint64_t> stated =
        content_length >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(content_length)) : stated_length_;
    ResponseFraming framing;
    if (status == 101) {
        // The connection is the new protocol's from here: its bytes go
        // as they are written, and it closes when the stream ends.
        close_after_response();
        block_.set_connection("Upgrade");
        framing = {true, std::nullopt};
    } else if (head || status == 204 || status == 205 || status == 304) {
        // As respond() frames them, with the stated length as the body's.
        framing = response_framing(head, status, 0, stated);
        if (head && !stated) framing.content_length.reset();
    } else if (stated) {
        framing = {true, stated};
    } else if (to_.http10) {
        // No chunked coding in HTTP/1.0: the end of the connection ends the body.
        framing = {true, std::nullopt};
        close_after_response();
    } else {
        framing = {true, std::nullopt, true};
    }
    s.send_body = framing.send_body;
    s.chunked = framing.chunked;
    if (s.send_body && status != 101) s.length = stated;
    if (on_event != nullptr) s.events = std::make_shared<StreamEvents>(on_event, user_data, this);
    // The head waits for the first piece (or the end), so a relayed answer
    // costs one send, as respond() does.
    format_response(s.head, to_.http10, status, block_, {}, framing,
                    has_request_id_header_ ? std::string_view() : request_id_);
    s.wire_bytes = s.head.size();
    if (s.events) {
        std::lock_guard lock(to_.socket->write_mutex());
        to_.http->stream_events = s.events;
    }
    // A 101 goes at once: neither side of the new protocol may speak
    // before it, so nothing else would make it go.
    if (status == 101) {
        std::lock_guard lock(to_.socket->write_mutex());
        to_.socket->write_locked(s.head, false);
        s.head.clear();
    }
    // Without content (HEAD, 204, 205, 304) the head is the whole answer:
    // it goes now, and counts as answered, so the client's next request is
    // served though the plugin ends its stream later.
    if (!s.send_body) {
        s.answered = true;
        write_response(to_, s.head, !keep_alive_);
        s.head.clear();
    }
}

kerberus_status Exchange::write_stream(std::string_view data) {
    // Past these, a client that stopped reading costs the daemon memory.
    constexpr std::size_t kBusyBytes = 256 * 1024;
    constexpr std::size_t kRefusedBytes = 8 * 1024 * 1024;
    Stream& s = stream_;
    if (!s.send_body) return data.empty() || method_ == "HEAD" ? KERBERUS_OK : KERBERUS_ERR_INVALID;
    if (s.length && data.size() > *s.length - s.written) return KERBERUS_ERR_INVALID;
    // An empty chunk would end the body.
    if (data.empty()) return KERBERUS_OK;
    thread_local std::string piece;
    piece.clear();
    piece.append(s.head);
    if (s.chunked) {
        char size[20];
        auto [end, ec] = std::to_chars(size, size + sizeof size, data.size(), 16);
        (void)ec;
        piece.append(size, end).append("\r\n");
    }
    piece.append(data);
    if (s.chunked) piece.append("\r\n");
    const std::size_t wire_bytes = piece.size() - s.head.size();
    // The piece that completes a stated length completes the answer.
    const bool last = s.length && data.size() == *s.length - s.written;
    net::Connection& socket = *to_.socket;
    std::lock_guard lock(socket.write_mutex());
    if (!socket.writable_locked()) return KERBERUS_ERR_CLOSED;
    if (socket.queued_bytes_locked() >= kRefusedBytes) return KERBERUS_ERR_TOO_LARGE;
    if (last) {
        s.answered = true;
        write_response_locked(to_, piece, !keep_alive_);
    } else {
        socket.write_locked(piece, false);
    }
    s.head.clear();
    s.written += data.size();
    s.wire_bytes += wire_bytes;
    if (socket.queued_bytes_locked() <= kBusyBytes) return KERBERUS_OK;
    socket.watch_drain_locked();
    return KERBERUS_BUSY;
}

bool Exchange::stream_short() const { return stream_.send_body && stream_.length && stream_.written < *stream_.length; }

void Exchange::end_stream(bool cut) {
    Stream& s = stream_;
    // No event or body callback runs once this returns (plugin.h).
    if (s.events) s.events->end();
    stop_body();
    if (to_.socket) {
        std::lock_guard lock(to_.socket->write_mutex());
        if (to_.http->stream_events == s.events) to_.http->stream_events.reset();
    }
    std::string tail = std::move(s.head);  // unsent (and counted) when nothing was written
    if (!cut && s.chunked) {
        constexpr std::string_view kLastChunk = "0\r\n\r\n";
        tail.append(kLastChunk);
        s.wire_bytes += kLastChunk.size();
    }
    record_answer(s.status, s.wire_bytes);
    // An answer that went out whole already (see Stream::answered) is not
    // sent again; it only closes the connection when the rest of a body
    // will not be read.
    if (!s.answered) {
        write_response(to_, tail, cut || !keep_alive_);
    } else if (!keep_alive_ && to_.socket) {
        std::string nothing;
        std::lock_guard lock(to_.socket->write_mutex());
        to_.socket->write_locked(nothing, true);
    }
    to_.socket.reset();
}

}  // namespace kerberus::http
