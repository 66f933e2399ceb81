// kerberus/plugin.hpp — a header-only C++17 SDK over the C ABI of plugin.h.
//
// plugin.h stays the contract; this header only makes it pleasant from C++:
// a class per plugin, lambdas as handlers, std::optional and
// std::string_view instead of status codes and kerberus_str, RAII for kept
// requests. Nothing here is compiled into the host, so a plugin may use an
// older compiler than the daemon (C++17 is enough).
//
//     #include <kerberus/plugin.hpp>
//
//     class Greeter final : public kerberus::Plugin {
//     public:
//         void init(kerberus::Host& host) override {
//             greeting_ = std::string(host.config_string("greeting").value_or("Hello"));
//             host.route("GET", "/:name", [this](kerberus::Request& r) {
//                 r.respond(200, greeting_ + ", " + std::string(*r.param("name")) + "!\n");
//             });
//         }
//     private:
//         std::string greeting_;
//     };
//
//     KERBERUS_PLUGIN(Greeter, "greeter", "1.0.0", "Greets whoever asks")
//
// ------------------------------------------------------------------------
// Exceptions never reach the host
// ------------------------------------------------------------------------
// Every function the SDK hands to the host catches everything:
//   - init: an exception fails the plugin; what() becomes its error text
//     (host->set_error) and init returns KERBERUS_ERR_INTERNAL.
//   - a handler: the exception is logged at ERROR with the method, the path
//     and what(); a request not yet answered gets the host's 500.
//   - a Host::fetch completion: logged at ERROR; a PendingRequest it holds
//     and has not answered answers 500 as it is destroyed.
//   - stop: logged at ERROR; the plugin still counts as stopped.
//   - health: reported as unhealthy with what() as the reason.
// Visitor callbacks (for_each_header, ...) are caught too and rethrown in
// the plugin once the host's function has returned.
// The SDK throws kerberus::Error itself where a mistake must not pass
// silently: a route the host refuses, a config value of the wrong type.
//
// ------------------------------------------------------------------------
// Threads and lifetimes (plugin.h has the full rules)
// ------------------------------------------------------------------------
//   - The Plugin object is created, init()ed, stop()ped and destroyed on the
//     host's main thread. Handlers run on HTTP worker threads, concurrently:
//     whatever they share must be thread-safe. Handlers must not block.
//   - Host is usable from init() until the object is destroyed, from any
//     thread; route() only inside init(). The Plugin's constructor runs
//     before the host is attached: do all host work in init().
//   - A Request lives for one handler call. Every std::string_view it
//     returns points into the host's request and is valid as long as the
//     request: until the handler returns, or — once kept — until the
//     PendingRequest answers. Copy what you keep longer.
//   - A PendingRequest answers later from any thread (one at a time).
//     Everything still pending when stop() returns has been answered 503
//     and freed by the host; the SDK then makes those objects inert.
#ifndef KERBERUS_PLUGIN_HPP
#define KERBERUS_PLUGIN_HPP

#include <kerberus/plugin.h>

#if !__has_include(<rapidjson/writer.h>)
#error "kerberus/plugin.hpp needs RapidJSON's headers, for kerberus::json (Debian: apt install rapidjson-dev)"
#endif
#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerberus {

enum class LogLevel : int {
    trace = KERBERUS_LOG_TRACE,
    debug = KERBERUS_LOG_DEBUG,
    info = KERBERUS_LOG_INFO,
    warn = KERBERUS_LOG_WARN,
    error = KERBERUS_LOG_ERROR,
    critical = KERBERUS_LOG_CRITICAL,
};

// The name plugin.h gives a status code, for messages.
inline const char* status_name(kerberus_status status) noexcept {
    switch (status) {
        case KERBERUS_OK: return "KERBERUS_OK";
        case KERBERUS_ASYNC: return "KERBERUS_ASYNC";
        case KERBERUS_ERR_INVALID: return "KERBERUS_ERR_INVALID";
        case KERBERUS_ERR_NOT_FOUND: return "KERBERUS_ERR_NOT_FOUND";
        case KERBERUS_ERR_WRONG_TYPE: return "KERBERUS_ERR_WRONG_TYPE";
        case KERBERUS_ERR_CONFLICT: return "KERBERUS_ERR_CONFLICT";
        case KERBERUS_ERR_STATE: return "KERBERUS_ERR_STATE";
        case KERBERUS_ERR_EXPIRED: return "KERBERUS_ERR_EXPIRED";
        case KERBERUS_ERR_TOO_LARGE: return "KERBERUS_ERR_TOO_LARGE";
        case KERBERUS_ERR_INTERNAL: return "KERBERUS_ERR_INTERNAL";
        case KERBERUS_ERR_UNREACHABLE: return "KERBERUS_ERR_UNREACHABLE";
        case KERBERUS_ERR_TIMEOUT: return "KERBERUS_ERR_TIMEOUT";
        case KERBERUS_ERR_CANCELLED: return "KERBERUS_ERR_CANCELLED";
        case KERBERUS_BUSY: return "KERBERUS_BUSY";
        case KERBERUS_ERR_CLOSED: return "KERBERUS_ERR_CLOSED";
        default: return "unknown kerberus_status";
    }
}

// A host call failed where the SDK has no other way to say so. what() is
// "<context>: <status name>", e.g. "route GET /x: KERBERUS_ERR_CONFLICT",
// or a message of its own. Thrown out of init(), its status is what init
// returns (so a wrong config type fails init with KERBERUS_ERR_WRONG_TYPE).
class Error : public std::runtime_error {
public:
    Error(kerberus_status status, const std::string& context)
        : std::runtime_error(context + ": " + status_name(status)), status_(status) {}
    struct Message {};
    Error(kerberus_status status, const std::string& message, Message)
        : std::runtime_error(message), status_(status) {}
    kerberus_status status() const noexcept { return status_; }

private:
    kerberus_status status_;
};

// A NUL-terminated string argument (header and parameter names, config
// keys, route patterns): a literal, a const char* or a std::string.
// std::string_view is not accepted on purpose: it need not be terminated.
class CStr {
public:
    CStr(const char* s) noexcept : s_(s) {}
    CStr(const std::string& s) noexcept : s_(s.c_str()) {}
    const char* c_str() const noexcept { return s_; }

private:
    const char* s_;
};

// ------------------------------------------------------------------------
// JSON strings
// ------------------------------------------------------------------------
// For plugins that build small JSON answers by hand:
//
//     r.respond_json(200, "{\"message\":" + kerberus::json::string(text) + "}");
//
// RapidJSON does the work: its UTF8<> decides what is well-formed UTF-8
// (overlong forms, surrogates, values past U+10FFFF and sequences cut short
// are not), and its Writer escapes what RFC 8259 requires: '"', '\\' and
// U+0000..U+001F (as \b \f \n \r \t, or \u00XX). Everything else, DEL and
// non-ASCII characters too, is copied as it is. Neither function keeps
// `text`; both may throw std::bad_alloc.
namespace json {
namespace detail {

// RapidJSON's output stream, appending to a std::string.
struct Appender {
    using Ch = char;
    std::string& out;
    void Put(char c) { out += c; }
    void Flush() {}
};

// RapidJSON's Writer checks the encoding itself (kWriteValidateEncodingFlag)
// but reads a character cut short at the end of the text past that end, as
// if the text were NUL-terminated; a view into a request is not. A
// MemoryStream reads '\0' past its end instead, which continues no
// character, so these checks stay within `s`.
inline bool is_utf8(std::string_view s) noexcept {
    rapidjson::MemoryStream in(s.data(), s.size());
    unsigned code_point = 0;
    while (in.Tell() < s.size()) {
        if (!rapidjson::UTF8<>::Decode(in, &code_point)) return false;
    }
    return true;
}

// The length of the well-formed character `s` starts with, or 0.
inline std::size_t utf8_char_length(std::string_view s) noexcept {
    rapidjson::MemoryStream in(s.data(), s.size());
    unsigned code_point = 0;
    return rapidjson::UTF8<>::Decode(in, &code_point) ? in.Tell() : 0;
}

// `s` starts with ill-formed UTF-8: how many bytes one U+FFFD replaces.
// Unicode recommends the "maximal subpart": the longest start of `s` that
// a well-formed character could begin with, at least one byte and, as a
// character has at most four, at most three. Followed by continuation bytes
// (0x80), such a start becomes a longer character: only a character's
// second byte has a narrower range than 0x80..0xBF, and it is in the start.
inline std::size_t ill_formed_length(std::string_view s) noexcept {
    for (std::size_t k = s.size() < 3 ? s.size() : 3; k > 1; --k) {
        char padded[6] = {'\x80', '\x80', '\x80', '\x80', '\x80', '\x80'};
        s.copy(padded, k);
        if (utf8_char_length(std::string_view(padded, k + 3)) > k) return k;
    }
    return 1;
}

// `text` with each maximal ill-formed subpart replaced by U+FFFD.
inline std::string replace_ill_formed(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        std::string_view rest = text.substr(i);
        std::size_t n = utf8_char_length(rest);
        if (n != 0) {
            out.append(rest.substr(0, n));
        } else {
            out += "\xEF\xBF\xBD";
            n = ill_formed_length(rest);
        }
        i += n;
    }
    return out;
}

}  // namespace detail

// Appends `text` to `out` as a JSON string, quotes included, and returns
// true. Returns false and leaves `out` as it was when `text` is not
// well-formed UTF-8, or is longer than RapidJSON takes (2^32 - 2 bytes).
// On an exception `out` is left as it was too.
inline bool append_string(std::string& out, std::string_view text) {
    if (text.size() >= std::numeric_limits<rapidjson::SizeType>::max() || !detail::is_utf8(text)) return false;
    const std::size_t before = out.size();
    bool written = false;
    try {
        out.reserve(before + text.size() + 2);
        detail::Appender appender{out};
        rapidjson::Writer<detail::Appender, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                          rapidjson::kWriteValidateEncodingFlag>
            writer(appender);
        // The Writer asserts on a null pointer, which an empty view may hold.
        written = writer.String(text.empty() ? "" : text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } catch (...) {
        out.resize(before);
        throw;
    }
    if (!written) out.resize(before);
    return written;
}

// `text` as a JSON string, quotes included, whatever bytes it holds: each
// maximal ill-formed subpart becomes U+FFFD (as in Rust's
// String::from_utf8_lossy, which the Rust crate's text accessors use), so
// request data always gives valid JSON. Throws std::length_error when the
// result would be longer than append_string takes.
inline std::string string(std::string_view text) {
    std::string out;
    if (append_string(out, text) || append_string(out, detail::replace_ill_formed(text))) return out;
    throw std::length_error("kerberus::json::string: text too long for a JSON string");
}

}  // namespace json

namespace detail {

// The part of a plugin instance that a PendingRequest may outlive: after
// stop() the host has freed every kept request, and `stopped` tells the
// PendingRequests still around never to touch theirs again.
struct Instance {
    const kerberus_host_api* api = nullptr;
    kerberus_plugin_ctx* ctx = nullptr;
    std::atomic<bool> stopped{false};

    // Event handlers of streams left open past stop(): the host may still
    // call them until it has cut those streams off, so they live as long as
    // the instance.
    void keep_until_destroyed(std::shared_ptr<void> handler) {
        std::lock_guard<std::mutex> lock(parked_mutex);
        parked.push_back(std::move(handler));
    }
    std::mutex parked_mutex;
    std::vector<std::shared_ptr<void>> parked;

    // KERBERUS_ROUTE_* bits set so far, by "METHOD pattern": route_set_flags
    // replaces a route's flags, the SDK's calls add to them. Init only.
    std::map<std::string, std::uint32_t> route_flags;
};

inline std::string_view view(kerberus_str s) noexcept {
    return s.len ? std::string_view(s.data, s.len) : std::string_view();
}

// The host copies data it is given; an empty view may still carry a null
// pointer, which plugin.h does not promise to accept.
inline const char* data_of(std::string_view s) noexcept { return s.empty() ? "" : s.data(); }

// Writes one log line made of `parts`. Never throws: it runs inside catch
// blocks of functions that must not let anything escape.
inline void log(const Instance& in, LogLevel level, std::initializer_list<std::string_view> parts) noexcept {
    try {
        std::string line;
        for (std::string_view p : parts) line += p;
        in.api->log(in.ctx, static_cast<int>(level), data_of(line), line.size());
    } catch (...) {
        in.api->log(in.ctx, static_cast<int>(level), "(log line lost: out of memory)", 30);
    }
}

inline void set_error(const kerberus_host_api* api, kerberus_plugin_ctx* ctx, std::string_view message) noexcept {
    api->set_error(ctx, data_of(message), message.size());
}

inline kerberus_status add_header(const Instance& in, kerberus_request* req, CStr name,
                                  std::string_view value) noexcept {
    return in.api->response_header_add(req, name.c_str(), data_of(value), value.size());
}

inline kerberus_status respond(const Instance& in, kerberus_request* req, int status, std::string_view body) noexcept {
    return in.api->respond(req, status, data_of(body), body.size());
}

// ABI growth: a function appended to kerberus_host_api after minor 0 must be
// tested with KERBERUS_HOST_HAS before it is called, and its wrapper must
// degrade on an older host. A plugin needs all of minor 0 to load at all;
// outbound HTTP (minor 1) is tested on each use.
// (The C macro casts 0 C-style; plugins built with -Wold-style-cast or
// -Wzero-as-null-pointer-constant and -Werror must still compile this.)
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wzero-as-null-pointer-constant"
#endif
inline bool has_abi_1_0(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, respond); }
// outbound_cancel comes after outbound_send: testing it covers both.
inline bool has_outbound(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, outbound_cancel); }
inline bool has_respond_error(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, respond_error); }
// metric_observe is the last field of ABI 1.3: testing it covers them all.
inline bool has_abi_1_3(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, metric_observe); }
// outbound_resume is the last field of ABI 1.4.
inline bool has_streaming(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, outbound_resume); }
// ABI 1.5: streamed request bodies, both ways.
inline bool has_body_streaming(const kerberus_host_api* api) noexcept {
    return KERBERUS_HOST_HAS(api, outbound_body_end);
}
// ABI 1.6: route authentication (public routes, the caller).
inline bool has_callers(const kerberus_host_api* api) noexcept { return KERBERUS_HOST_HAS(api, request_caller); }

// The callbacks of a request body being read (PendingRequest::read_body):
// they live with the request's owner until it is answered, since the host
// calls them until then.
struct BodyReader {
    std::function<kerberus_status(std::string_view)> on_data;
    std::function<void(kerberus_status)> on_end;

    static kerberus_status data(void* user_data, const char* bytes, std::size_t len) noexcept {
        try {
            return static_cast<BodyReader*>(user_data)->on_data(std::string_view(bytes, len)) == KERBERUS_BUSY
                       ? KERBERUS_BUSY
                       : KERBERUS_OK;
        } catch (...) {
            return KERBERUS_OK;  // nothing may unwind into the host
        }
    }
    static void end(void* user_data, kerberus_status result) noexcept {
        try {
            static_cast<BodyReader*>(user_data)->on_end(result);
        } catch (...) {
        }
    }
};
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The daemon's JSON error body (ABI 1.2); on an older host, the message as
// plain text with the same status.
inline kerberus_status respond_error(const Instance& in, kerberus_request* req, int status,
                                     std::string_view message) noexcept {
    if (has_respond_error(in.api)) return in.api->respond_error(req, status, data_of(message), message.size());
    return in.api->respond(req, status, data_of(message), message.size());
}

struct Lifecycle;

}  // namespace detail

// Read access to one request: the part Request and PendingRequest share.
// Views and values are empty (std::nullopt) once the request is no longer
// this object's to read: kept away, answered (PendingRequest), or freed by
// the host after stop().
class RequestView {
public:
    // "GET", "POST", ...
    std::string_view method() const noexcept { return get(&kerberus_host_api::request_method); }
    // Below the plugin's prefix, decoded and normalised: "/world".
    std::string_view path() const noexcept { return get(&kerberus_host_api::request_path); }
    // As the client sent it, without the query: "/api/hello/w%20x".
    std::string_view raw_path() const noexcept { return get(&kerberus_host_api::request_raw_path); }
    // A route parameter (":name" without the colon, or "*"), decoded.
    std::optional<std::string_view> param(CStr name) const noexcept {
        return find(&kerberus_host_api::request_param, name);
    }
    // The raw query string without '?' ("" when none).
    std::string_view query() const noexcept { return get(&kerberus_host_api::request_query); }
    // The first value of a query parameter, decoded.
    std::optional<std::string_view> query_param(CStr name) const noexcept {
        return find(&kerberus_host_api::request_query_param, name);
    }
    // A request header, by case-insensitive name.
    std::optional<std::string_view> header(CStr name) const noexcept {
        return find(&kerberus_host_api::request_header, name);
    }
    std::string_view body() const noexcept { return get(&kerberus_host_api::request_body); }
    std::string_view remote_address() const noexcept { return get(&kerberus_host_api::request_remote_address); }
    // The request's id (X-Request-Id as the client sent it when well-formed,
    // else one the daemon made); send it on to upstreams. Empty on a host
    // older than ABI 1.3.
    std::string_view request_id() const noexcept {
        if (!live() || !detail::has_abi_1_3(in_->api)) return {};
        return get(&kerberus_host_api::request_id);
    }

    // Who called (ABI 1.6): the auth.externalAccess entry's subject, or a
    // JWT's sub, and how it proved it ("static", "legacy", "jwks"). The
    // views are valid as long as the request. nullopt when the request
    // carried no credentials that verified (a public route, or the default
    // auth policy disabled), or on an older host.
    struct Caller {
        std::string_view subject;
        std::string_view token_type;
    };
    std::optional<Caller> caller() const noexcept {
        if (!live() || !detail::has_callers(in_->api)) return std::nullopt;
        kerberus_str subject{}, type{};
        if (in_->api->request_caller(req_, &subject, &type) != KERBERUS_OK) return std::nullopt;
        return Caller{detail::view(subject), detail::view(type)};
    }

    // Calls visit(std::string_view name, std::string_view value) for each
    // request header / decoded query parameter, in order. The views are
    // valid during the call only.
    template <class F>
    void for_each_header(F&& visit) const {
        each(&kerberus_host_api::request_header_visit, visit);
    }
    template <class F>
    void for_each_query_param(F&& visit) const {
        each(&kerberus_host_api::request_query_visit, visit);
    }

    // The C handle, for host functions the SDK does not wrap; null when this
    // object may no longer use it. Answering through it bypasses the SDK's
    // bookkeeping: don't.
    kerberus_request* handle() const noexcept { return live() ? req_ : nullptr; }

protected:
    RequestView(detail::Instance* in, kerberus_request* req) noexcept : in_(in), req_(req) {}

    bool live() const noexcept { return req_ != nullptr && !in_->stopped.load(std::memory_order_acquire); }

    detail::Instance* in_;
    kerberus_request* req_;

private:
    using Getter = kerberus_status (*)(kerberus_request*, kerberus_str*);
    using Finder = kerberus_status (*)(kerberus_request*, const char*, kerberus_str*);
    using Visitor = kerberus_status (*)(kerberus_request*, kerberus_visit_fn, void*);

    std::string_view get(Getter kerberus_host_api::*fn) const noexcept {
        kerberus_str out{nullptr, 0};
        if (live() && (in_->api->*fn)(req_, &out) == KERBERUS_OK) return detail::view(out);
        return {};
    }

    std::optional<std::string_view> find(Finder kerberus_host_api::*fn, CStr name) const noexcept {
        kerberus_str out{nullptr, 0};
        if (live() && (in_->api->*fn)(req_, name.c_str(), &out) == KERBERUS_OK) return detail::view(out);
        return std::nullopt;
    }

    template <class F>
    void each(Visitor kerberus_host_api::*fn, F& visit) const {
        if (!live()) return;
        struct State {
            F& visit;
            std::exception_ptr error;
        } state{visit, nullptr};
        kerberus_visit_fn trampoline = [](void* user_data, kerberus_str name, kerberus_str value) noexcept -> int {
            State& s = *static_cast<State*>(user_data);
            try {
                s.visit(detail::view(name), detail::view(value));
                return 0;
            } catch (...) {
                s.error = std::current_exception();
                return 1;
            }
        };
        (in_->api->*fn)(req_, trampoline, &state);
        if (state.error) std::rethrow_exception(state.error);
    }
};

// A response sent as it is produced (plugin.h "Streamed responses", ABI
// 1.4), from Request::stream() or PendingRequest::stream(). Move-only; use
// it from one thread at a time (on_event runs on a worker thread of the
// host's: share state with it under your own lock).
//   - write() returns KERBERUS_OK, or KERBERUS_BUSY (taken; wait for
//     StreamEvent::writable before the next write), or an error
//     (KERBERUS_ERR_CLOSED: the client left; end() and stop producing).
//   - end() finishes the response; afterwards the object is empty and
//     calls return KERBERUS_ERR_STATE. Destroyed unended, it ends itself
//     (cut short, if a stated length was not reached).
//   - After the plugin's stop() the host has cut the stream off and freed
//     the request: end streams inside stop() and join their threads there.
enum class StreamEvent { writable = KERBERUS_STREAM_WRITABLE, closed = KERBERUS_STREAM_CLOSED };

class ResponseStream {
public:
    ResponseStream() noexcept = default;
    ResponseStream(ResponseStream&& other) noexcept
        : in_(other.in_), req_(std::exchange(other.req_, nullptr)), owner_(std::move(other.owner_)),
          events_(std::move(other.events_)), body_(std::move(other.body_)) {}
    ResponseStream& operator=(ResponseStream&& other) noexcept {
        if (this != &other) {
            end();
            in_ = other.in_;
            req_ = std::exchange(other.req_, nullptr);
            owner_ = std::move(other.owner_);
            events_ = std::move(other.events_);
            body_ = std::move(other.body_);
        }
        return *this;
    }
    ~ResponseStream() { end(); }

    // True until end().
    explicit operator bool() const noexcept { return req_ != nullptr; }

    kerberus_status write(std::string_view data) noexcept {
        if (req_ == nullptr) return KERBERUS_ERR_STATE;
        if (stopped()) return KERBERUS_ERR_EXPIRED;
        return in_->api->response_write(req_, detail::data_of(data), data.size());
    }

    // The request body goes on arriving while the answer streams (a
    // relay): resumes it after its on_data returned KERBERUS_BUSY (see
    // PendingRequest::read_body).
    kerberus_status resume_body() noexcept {
        if (req_ == nullptr || !body_) return KERBERUS_ERR_STATE;
        if (stopped()) return KERBERUS_ERR_EXPIRED;
        return in_->api->request_body_resume(req_);
    }

    // Cuts the response off (plugin.h response_abort): the client sees it
    // incomplete. For a source that failed midway. Empty afterwards.
    kerberus_status abort() noexcept {
        if (req_ == nullptr) return KERBERUS_ERR_STATE;
        // After stop() the host has cut the stream off and freed the request.
        kerberus_status s = stopped() ? KERBERUS_ERR_EXPIRED : in_->api->response_abort(req_);
        release(s);
        return s;
    }

    kerberus_status end() noexcept {
        if (req_ == nullptr) return KERBERUS_ERR_STATE;
        // After stop() the host has cut the stream off and freed the request.
        kerberus_status s = stopped() ? KERBERUS_ERR_EXPIRED : in_->api->response_end(req_);
        release(s);
        return s;
    }

private:
    friend class Request;
    friend class PendingRequest;
    using EventHandler = std::function<void(StreamEvent)>;

    bool stopped() const noexcept { return in_->stopped.load(std::memory_order_acquire); }

    // No event callback runs once response_end or response_abort returned;
    // after stop() the host may still call it until it cuts the stream
    // off, so then the handler stays with the instance.
    void release(kerberus_status how) noexcept {
        req_ = nullptr;
        if (events_ && how == KERBERUS_ERR_EXPIRED && owner_) {
            try {
                owner_->keep_until_destroyed(std::shared_ptr<EventHandler>(std::move(events_)));
            } catch (...) {
                (void)events_.release();  // out of memory: leak it rather than free it under the host
            }
        }
        if (body_ && how == KERBERUS_ERR_EXPIRED && owner_) {
            try {
                owner_->keep_until_destroyed(body_);
            } catch (...) {
                (void)new (std::nothrow) std::shared_ptr<detail::BodyReader>(body_);  // leak rather than free
            }
        }
        events_.reset();
        body_.reset();
        owner_.reset();
    }

    // Starts the response on `req`; an empty stream (and `*status` says
    // why) when the host refused or has no streaming (older than 1.4).
    static ResponseStream start(std::shared_ptr<detail::Instance> owner, kerberus_request* req, int status_code,
                                std::int64_t content_length, EventHandler on_event, kerberus_status* status) {
        ResponseStream stream;
        const detail::Instance& in = *owner;
        if (!detail::has_streaming(in.api)) {
            if (status) *status = KERBERUS_ERR_STATE;
            return stream;
        }
        std::unique_ptr<EventHandler> events;
        if (on_event) events = std::make_unique<EventHandler>(std::move(on_event));
        kerberus_stream_event_fn trampoline = [](void* user_data, kerberus_request*, int event) noexcept {
            try {
                (*static_cast<EventHandler*>(user_data))(static_cast<StreamEvent>(event));
            } catch (...) {
                // Nothing may unwind into the host; the stream's owner
                // learns of trouble from its next write.
            }
        };
        kerberus_status s = in.api->response_start(req, status_code, content_length, events ? trampoline : nullptr,
                                                   events.get());
        if (status) *status = s;
        if (s != KERBERUS_OK) return stream;
        stream.in_ = &in;
        stream.req_ = req;
        stream.owner_ = std::move(owner);
        stream.events_ = std::move(events);
        return stream;
    }

    const detail::Instance* in_ = nullptr;
    kerberus_request* req_ = nullptr;
    std::shared_ptr<detail::Instance> owner_;
    std::unique_ptr<EventHandler> events_;
    std::shared_ptr<detail::BodyReader> body_;  // a request body still being read
};

// The right to answer a kept request, from any thread. Use it from one
// thread at a time. Move-only: to hand it to something that copies its
// callables (std::function), wrap it in a std::shared_ptr; Host::fetch
// takes it as it is.
//   - Answer exactly once with respond() / respond_json(). Afterwards the
//     object is empty and every call returns KERBERUS_ERR_STATE: the host
//     has freed the request, so a second answer never reaches it.
//   - Dropped unanswered (destroyed, or overwritten by a move), it answers
//     500 itself and logs an ERROR naming the request: a forgotten request
//     fails at once instead of hanging its client until the deadline 504.
//   - After the plugin's stop() has returned, the host has answered 503
//     and freed it: calls return KERBERUS_ERR_EXPIRED, reads are empty and
//     destruction is silent. Answer or drop kept requests inside stop(),
//     and join every thread that holds one there.
class PendingRequest : public RequestView {
public:
    PendingRequest() noexcept : RequestView(nullptr, nullptr) {}
    PendingRequest(PendingRequest&& other) noexcept
        : RequestView(other.in_, std::exchange(other.req_, nullptr)), owner_(std::move(other.owner_)),
          body_(std::move(other.body_)) {}
    PendingRequest& operator=(PendingRequest&& other) noexcept {
        if (this != &other) {
            abandon();
            in_ = other.in_;
            req_ = std::exchange(other.req_, nullptr);
            owner_ = std::move(other.owner_);
            body_ = std::move(other.body_);
        }
        return *this;
    }
    ~PendingRequest() { abandon(); }

    // True while it holds a request nobody has answered.
    explicit operator bool() const noexcept { return live(); }

    // Adds a response header (see response_header_add in plugin.h).
    kerberus_status add_header(CStr name, std::string_view value) noexcept {
        if (!live()) return gone();
        return detail::add_header(*in_, req_, name, value);
    }

    // Sends the response and gives the request back to the host, whatever
    // the result (plugin.h: respond() ends a kept request's life).
    kerberus_status respond(int status, std::string_view body = {}) noexcept {
        if (!live()) return release(gone());
        return settle(detail::respond(*in_, req_, status, body));
    }

    // respond() with "Content-Type: application/json".
    kerberus_status respond_json(int status, std::string_view json) noexcept {
        add_header("Content-Type", "application/json");
        return respond(status, json);
    }

    // Answers 400..599 with the daemon's own JSON error body (plugin.h:
    // respond_error), so clients see one error format everywhere.
    kerberus_status respond_error(int status, std::string_view message) noexcept {
        if (!live()) return release(gone());
        return settle(detail::respond_error(*in_, req_, status, message));
    }

    // Starts a streamed response (see ResponseStream): status line and the
    // headers added so far go out; `content_length` -1 means unknown
    // (chunked). The request moves into the stream: this object is empty
    // afterwards unless the host refused (then `*status` says why and the
    // request is still this object's to answer). Thread: any.
    ResponseStream stream(int status_code, std::int64_t content_length = -1,
                          std::function<void(StreamEvent)> on_event = {}, kerberus_status* status = nullptr) {
        kerberus_status s = KERBERUS_ERR_STATE;
        if (!live()) {
            if (status) *status = gone();
            return ResponseStream();
        }
        ResponseStream out = ResponseStream::start(owner_, req_, status_code, content_length, std::move(on_event), &s);
        if (status) *status = s;
        if (out) {
            out.body_ = std::move(body_);  // a body still arriving keeps arriving
            release(KERBERUS_OK);
        }
        return out;
    }

    // Reads the request body as it arrives (plugin.h "Streamed request
    // bodies", ABI 1.5), on a route marked with Host::stream_body_of():
    //   on_data(std::string_view piece) -> kerberus_status  per piece;
    //           KERBERUS_BUSY pauses until resume_body();
    //   on_end(kerberus_status result)  once, last: KERBERUS_OK when the
    //           body arrived whole, else why not (KERBERUS_ERR_CLOSED,
    //           KERBERUS_ERR_INVALID, KERBERUS_ERR_TIMEOUT).
    // Both on the connection's worker thread, never after the answer was
    // given (an answer before on_end stops the body). Exceptions they throw
    // are swallowed. Returns what request_body_stream returns
    // (KERBERUS_ERR_STATE on an older host or a route without the flag).
    kerberus_status read_body(std::function<kerberus_status(std::string_view)> on_data,
                              std::function<void(kerberus_status)> on_end) {
        if (!live()) return gone();
        if (!detail::has_body_streaming(in_->api) || body_) return KERBERUS_ERR_STATE;
        auto reader = std::make_shared<detail::BodyReader>();
        reader->on_data = std::move(on_data);
        reader->on_end = std::move(on_end);
        kerberus_body_fns fns{};
        fns.struct_size = sizeof fns;
        fns.on_data = &detail::BodyReader::data;
        fns.on_end = &detail::BodyReader::end;
        kerberus_status s = in_->api->request_body_stream(req_, &fns, reader.get());
        if (s == KERBERUS_OK) body_ = std::move(reader);
        return s;
    }

    // Resumes a body whose on_data returned KERBERUS_BUSY. Thread: any.
    kerberus_status resume_body() noexcept {
        if (!live()) return gone();
        if (!body_) return KERBERUS_ERR_STATE;
        return in_->api->request_body_resume(req_);
    }

private:
    // A bad status or an oversized body sends nothing: the request is still
    // this object's to answer (see respond() in plugin.h). Anything else
    // gives the request back to the host.
    kerberus_status settle(kerberus_status s) noexcept {
        if (s == KERBERUS_ERR_INVALID || s == KERBERUS_ERR_TOO_LARGE) return s;
        return release(s);
    }

    friend class Request;
    PendingRequest(std::shared_ptr<detail::Instance> owner, kerberus_request* req) noexcept
        : RequestView(owner.get(), req), owner_(std::move(owner)) {}

    kerberus_status gone() const noexcept { return req_ != nullptr ? KERBERUS_ERR_EXPIRED : KERBERUS_ERR_STATE; }

    kerberus_status release(kerberus_status s) noexcept {
        req_ = nullptr;
        // After stop() the host may call the body's callbacks until it has
        // answered: they live with the instance then.
        if (body_ && s == KERBERUS_ERR_EXPIRED && owner_) {
            try {
                owner_->keep_until_destroyed(body_);
            } catch (...) {
                (void)new (std::nothrow) std::shared_ptr<detail::BodyReader>(body_);  // leak rather than free
            }
        }
        body_.reset();
        owner_.reset();
        return s;
    }

    void abandon() noexcept {
        if (live()) {
            detail::log(*in_, LogLevel::error,
                        {method(), " ", path(), ": request kept but dropped without an answer; answering 500"});
            respond_error(500, "the plugin dropped this request without answering it");
        }
        release(KERBERUS_OK);
    }

    std::shared_ptr<detail::Instance> owner_;
    std::shared_ptr<detail::BodyReader> body_;  // a request body being read
};

// The request a handler is called with; valid during that call. Answer it
// with respond() / respond_json() before returning, or keep() it and answer
// later. Returning without either is a bug: the host answers 500 and logs it.
class Request : public RequestView {
public:
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    // Adds a response header; call before respond(). Content-Length,
    // Connection and Transfer-Encoding are the host's (KERBERUS_ERR_INVALID).
    kerberus_status add_header(CStr name, std::string_view value) noexcept {
        if (!live()) return KERBERUS_ERR_STATE;
        return detail::add_header(*in_, req_, name, value);
    }

    // Sends the response: status 200..599, the headers added so far and
    // `body` (copied; "text/plain; charset=utf-8" unless a Content-Type was
    // added). Returns the host's status (plugin.h: respond).
    kerberus_status respond(int status, std::string_view body = {}) noexcept {
        if (!live()) return KERBERUS_ERR_STATE;
        return settle(detail::respond(*in_, req_, status, body));
    }

    // respond() with "Content-Type: application/json".
    kerberus_status respond_json(int status, std::string_view json) noexcept {
        add_header("Content-Type", "application/json");
        return respond(status, json);
    }

    // Answers 400..599 with the daemon's own JSON error body (plugin.h:
    // respond_error), so clients see one error format everywhere.
    kerberus_status respond_error(int status, std::string_view message) noexcept {
        if (!live()) return KERBERUS_ERR_STATE;
        return settle(detail::respond_error(*in_, req_, status, message));
    }

    // Starts a streamed response (see ResponseStream and
    // PendingRequest::stream). The stream may outlive the handler and be
    // written from any thread; this Request is empty afterwards unless the
    // host refused (then `*status` says why).
    ResponseStream stream(int status_code, std::int64_t content_length = -1,
                          std::function<void(StreamEvent)> on_event = {}, kerberus_status* status = nullptr) {
        kerberus_status s = KERBERUS_ERR_STATE;
        if (!live() || kept_) {
            if (status) *status = KERBERUS_ERR_STATE;
            return ResponseStream();
        }
        ResponseStream out = ResponseStream::start(owner_, req_, status_code, content_length, std::move(on_event), &s);
        if (status) *status = s;
        if (out) {
            // The handler returns KERBERUS_ASYNC: the stream answers, now or later.
            kept_ = true;
            req_ = nullptr;
        }
        return out;
    }

    // Takes the request out of the handler: the handler then returns
    // without answering and the PendingRequest answers later, from any
    // thread. From here on this Request is empty; read the request through
    // the PendingRequest (another thread may already have answered it).
    // Throws std::logic_error if the request was already answered or kept.
    PendingRequest keep() {
        if (kept_) throw std::logic_error("kerberus::Request::keep() called twice");
        if (responded_) throw std::logic_error("kerberus::Request::keep() after respond()");
        kept_ = true;
        return PendingRequest(owner_, std::exchange(req_, nullptr));
    }

    bool responded() const noexcept { return responded_; }

private:
    friend class Host;
    Request(const std::shared_ptr<detail::Instance>& owner, kerberus_request* req) noexcept
        : RequestView(owner.get(), req), owner_(owner) {}

    // STATE / EXPIRED: answered before, which is still an answer.
    kerberus_status settle(kerberus_status s) noexcept {
        if (s == KERBERUS_OK || s == KERBERUS_ERR_STATE || s == KERBERUS_ERR_EXPIRED) responded_ = true;
        return s;
    }

    void log_exception(const char* what) const noexcept {
        if (kept_) {
            detail::log(*in_, LogLevel::error, {"handler threw after keep(): ", what});
        } else {
            detail::log(*in_, LogLevel::error, {method(), " ", path(), ": handler threw: ", what});
        }
    }

    const std::shared_ptr<detail::Instance>& owner_;
    bool responded_ = false;
    bool kept_ = false;
};

// ------------------------------------------------------------------------
// Outbound HTTP (ABI 1.1)
// ------------------------------------------------------------------------

// A request for Host::fetch(). The host copies all of it before fetch()
// returns, so it may be a temporary.
struct OutboundRequest {
    // "GET", "POST", ...
    std::string method = "GET";
    // Absolute http:// or https:// URL.
    std::string url;
    // Sent as given, in this order. Without a Host header the host derives
    // one from the URL; the only header it adds is Content-Length.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // Zero: the host's defaults (10 s to connect, 30 s in total).
    std::chrono::milliseconds connect_timeout{0};
    std::chrono::milliseconds timeout{0};
    // Largest response body accepted, 0 for the host's 64 MiB. A larger one
    // ends the fetch with KERBERUS_ERR_TOO_LARGE.
    std::uint64_t max_response_bytes = 0;
    // Skips TLS certificate and host name checks (tests, private CAs).
    bool insecure_tls = false;
    // ABI 1.5, fetch_stream only: the body is not `body` (leave it empty)
    // but what Host::write_fetch_body gives later, ended by
    // Host::end_fetch_body. `body_length`: its exact length (sent as
    // Content-Length), or -1 when unknown (sent chunked).
    bool stream_body = false;
    std::int64_t body_length = -1;
    // ABI 1.5, with stream_body: an upgrade (plugin.h KERBERUS_OUTBOUND_UPGRADE):
    // after a 101, on_body gets the new protocol's bytes and write_fetch_body
    // sends them the other way; plain http:// only.
    bool upgrade = false;
};

// How a fetch ended. The views are valid during the completion callback
// only: copy what you keep.
struct OutboundResponse {
    // KERBERUS_OK when an HTTP response arrived (any status, 5xx included);
    // otherwise KERBERUS_ERR_UNREACHABLE, _TIMEOUT, _TOO_LARGE, _CANCELLED,
    // or why the host refused to start it (see Host::fetch).
    kerberus_status result = KERBERUS_OK;
    // The HTTP status; 0 unless result is KERBERUS_OK.
    int status = 0;
    // In the order received; repeated names repeat.
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    // The whole body, de-chunked (not decompressed).
    std::string_view body;
    // What went wrong, for logs, when result is not KERBERUS_OK. Never holds
    // request headers or bodies.
    std::string_view error;
};

namespace detail {

// One fetch: owns the completion callable from Host::fetch until it has run
// once, then frees itself.
class FetchCall {
public:
    explicit FetchCall(std::shared_ptr<Instance> in) noexcept : in_(std::move(in)) {}
    virtual ~FetchCall() = default;
    FetchCall(const FetchCall&) = delete;
    FetchCall& operator=(const FetchCall&) = delete;

    // The kerberus_outbound_done_fn; `user_data` is a FetchCall it takes over.
    static void complete(void* user_data, const kerberus_outbound_response* raw) noexcept {
        std::unique_ptr<FetchCall> call(static_cast<FetchCall*>(user_data));
        try {
            // Every field read here belongs to the struct's first version,
            // so any host's struct_size covers them.
            OutboundResponse response;
            response.result = raw->result;
            response.status = raw->status;
            response.headers.reserve(raw->header_count);
            for (std::size_t i = 0; i < raw->header_count; ++i) {
                response.headers.emplace_back(view(raw->headers[i].name), view(raw->headers[i].value));
            }
            response.body = view(raw->body);
            if (raw->error != nullptr) response.error = raw->error;
            call->run(response);
        } catch (const std::exception& e) {
            log(*call->in_, LogLevel::error, {"fetch completion threw: ", e.what()});
        } catch (...) {
            log(*call->in_, LogLevel::error, {"fetch completion threw an exception not derived from std::exception"});
        }
    }

private:
    virtual void run(const OutboundResponse& response) = 0;

    // Keeps the logger usable whatever the plugin object does meanwhile.
    std::shared_ptr<Instance> in_;
};

template <class Done>
class FetchCallOf final : public FetchCall {
public:
    template <class D>
    FetchCallOf(std::shared_ptr<Instance> in, D&& done) : FetchCall(std::move(in)), done_(std::forward<D>(done)) {}

private:
    void run(const OutboundResponse& response) override { done_(response); }

    Done done_;
};

// One streamed fetch (Host::fetch_stream): a FetchCall whose head and body
// callbacks come first; `done` still runs last and frees it.
template <class Head, class Body, class Done>
class StreamCallOf final : public FetchCall {
public:
    template <class H, class B, class D>
    StreamCallOf(std::shared_ptr<Instance> in, H&& head, B&& body, D&& done)
        : FetchCall(std::move(in)), head_(std::forward<H>(head)), body_(std::forward<B>(body)),
          done_(std::forward<D>(done)) {}

    // A streamed request body's "write again" (ABI 1.5).
    std::function<void()> writable;

    static void on_body_writable(void* user_data) noexcept {
        auto* call = static_cast<StreamCallOf*>(user_data);
        try {
            if (call->writable) call->writable();
        } catch (...) {
            call->failed_ = true;
        }
    }

    static void on_head(void* user_data, int status, const kerberus_header* raw, std::size_t count) noexcept {
        auto* call = static_cast<StreamCallOf*>(user_data);
        try {
            std::vector<std::pair<std::string_view, std::string_view>> headers;
            headers.reserve(count);
            for (std::size_t i = 0; i < count; ++i) headers.emplace_back(view(raw[i].name), view(raw[i].value));
            call->head_(status, headers);
        } catch (...) {
            call->failed_ = true;
        }
    }

    static kerberus_status on_body(void* user_data, const char* data, std::size_t len) noexcept {
        auto* call = static_cast<StreamCallOf*>(user_data);
        if (call->failed_) return KERBERUS_OK;
        try {
            return call->body_(std::string_view(data, len)) == KERBERUS_BUSY ? KERBERUS_BUSY : KERBERUS_OK;
        } catch (...) {
            call->failed_ = true;
            return KERBERUS_OK;
        }
    }

private:
    void run(const OutboundResponse& response) override {
        if (!failed_) {
            done_(response);
            return;
        }
        OutboundResponse failed = response;
        failed.result = KERBERUS_ERR_INTERNAL;
        failed.error = "a streamed fetch's head or body callback threw";
        done_(failed);
    }

    Head head_;
    Body body_;
    Done done_;
    bool failed_ = false;  // a callback threw: the rest is dropped, done learns it
};

// plugin.h takes 32-bit milliseconds, 0 meaning "the host's default".
inline std::uint32_t timeout_ms(std::chrono::milliseconds d) noexcept {
    constexpr auto max = std::numeric_limits<std::uint32_t>::max();
    if (d.count() <= 0) return 0;
    return d.count() >= static_cast<std::chrono::milliseconds::rep>(max) ? max : static_cast<std::uint32_t>(d.count());
}

}  // namespace detail

// One series of a metric family: record values from any thread, lock-free.
// Inert (records nothing) when default-constructed or on a host older than
// ABI 1.3. Counters take add() of values >= 0, gauges add() and set(),
// histograms observe(); anything else is ignored (the host refuses it).
class Metric {
public:
    Metric() = default;
    void add(double value = 1) const noexcept {
        if (series_) api_->metric_add(series_, value);
    }
    void set(double value) const noexcept {
        if (series_) api_->metric_set(series_, value);
    }
    void observe(double value) const noexcept {
        if (series_) api_->metric_observe(series_, value);
    }
    // A duration observed in seconds, Prometheus' unit.
    template <class Rep, class Period>
    void observe(std::chrono::duration<Rep, Period> d) const noexcept {
        observe(std::chrono::duration<double>(d).count());
    }

private:
    friend class MetricFamily;
    Metric(const kerberus_host_api* api, kerberus_metric* series) : api_(api), series_(series) {}
    const kerberus_host_api* api_ = nullptr;
    kerberus_metric* series_ = nullptr;
};

// A metric family made with Host::counter/gauge/histogram; exposed on the
// admin surface's /metrics as kerberus_plugin_<id>_<name>{plugin="<id>",...}.
class MetricFamily {
public:
    MetricFamily() = default;
    // The series with these label values (one per label name, in order),
    // made on first use. Takes a lock in the host: look series up once (at
    // init, or once per new label value) and keep the Metric. Throws
    // kerberus::Error when the host refuses (wrong count, too many series).
    Metric with(std::initializer_list<std::string_view> values) const {
        if (family_ == nullptr) return {};
        std::vector<kerberus_str> raw;
        raw.reserve(values.size());
        for (std::string_view v : values) raw.push_back({v.data(), v.size()});
        kerberus_metric* series = nullptr;
        kerberus_status s = api_->metric_series(family_, raw.data(), raw.size(), &series);
        if (s != KERBERUS_OK) throw Error(s, "metric series");
        return Metric(api_, series);
    }
    // The one series of a family without labels.
    Metric get() const { return with({}); }

private:
    friend class Host;
    MetricFamily(const kerberus_host_api* api, kerberus_metric_family* family) : api_(api), family_(family) {}
    const kerberus_host_api* api_ = nullptr;
    kerberus_metric_family* family_ = nullptr;
};

// The plugin's access to the host: logging, its own config namespace, its
// routes, outbound HTTP. Every function is thread-safe except route(),
// which only init() may call.
class Host {
public:
    using Handler = std::function<void(Request&)>;

    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // The C table and context, for host functions the SDK does not wrap.
    const kerberus_host_api* api() const noexcept { return in_->api; }
    kerberus_plugin_ctx* ctx() const noexcept { return in_->ctx; }
    // The daemon's version, e.g. "0.1.0".
    std::string_view host_version() const noexcept { return in_->api->host_version; }

    // One log line, tagged with the plugin id by the host. No trailing
    // newline. Test log_enabled() first when the message is costly to build.
    void log(LogLevel level, std::string_view message) const noexcept {
        in_->api->log(in_->ctx, static_cast<int>(level), detail::data_of(message), message.size());
    }
    bool log_enabled(LogLevel level) const noexcept {
        return in_->api->log_enabled(in_->ctx, static_cast<int>(level)) != 0;
    }
    void debug(std::string_view message) const noexcept { log(LogLevel::debug, message); }
    void info(std::string_view message) const noexcept { log(LogLevel::info, message); }
    void warn(std::string_view message) const noexcept { log(LogLevel::warn, message); }
    void error(std::string_view message) const noexcept { log(LogLevel::error, message); }

    // Config of this plugin's namespace, by dotted key ("upstream.timeout",
    // "servers.0.host"). std::nullopt when the key is absent; throws
    // kerberus::Error when the value has another type, so a misconfiguration
    // fails init instead of silently taking the default. Strings are valid
    // until the plugin is destroyed.
    std::optional<std::string_view> config_string(CStr key) const {
        kerberus_str out{nullptr, 0};
        if (!found(in_->api->config_get_string(in_->ctx, key.c_str(), &out), key, "a string")) return std::nullopt;
        return detail::view(out);
    }
    std::optional<std::int64_t> config_int(CStr key) const {
        std::int64_t out = 0;
        if (!found(in_->api->config_get_int(in_->ctx, key.c_str(), &out), key, "an integer")) return std::nullopt;
        return out;
    }
    std::optional<double> config_double(CStr key) const {
        double out = 0;
        if (!found(in_->api->config_get_double(in_->ctx, key.c_str(), &out), key, "a number")) return std::nullopt;
        return out;
    }
    std::optional<bool> config_bool(CStr key) const {
        int out = 0;
        if (!found(in_->api->config_get_bool(in_->ctx, key.c_str(), &out), key, "true or false")) return std::nullopt;
        return out != 0;
    }
    // The whole namespace as JSON ("{}" when empty); valid until destroy.
    std::string_view config_json() const {
        kerberus_str out{nullptr, 0};
        kerberus_status s = in_->api->config_json(in_->ctx, &out);
        if (s != KERBERUS_OK) throw Error(s, "config_json");
        return detail::view(out);
    }

    // Registers `handler` for `method` ("GET", ..., "*" for any) and
    // `pattern` below /api/<id> ("/", "/items/:id", "/files/*"; see
    // route_add in plugin.h). Throws kerberus::Error if the host refuses it
    // (malformed pattern, duplicate, called outside init).
    //
    // `summary`, one line, describes the route in the inventory, the OpenAPI
    // document and the dashboard (ignored by hosts older than ABI 1.3).
    void route(CStr method, CStr pattern, Handler handler, std::string_view summary = {}) {
        std::string context = std::string("route ") + method.c_str() + " " + pattern.c_str();
        if (!handler) throw Error(KERBERUS_ERR_INVALID, context + " (empty handler)");
        routes_.push_back(std::make_unique<Route>(Route{this, std::move(handler)}));
        kerberus_status s = in_->api->route_add(in_->ctx, method.c_str(), pattern.c_str(), &Host::dispatch,
                                                routes_.back().get());
        if (s != KERBERUS_OK) {
            routes_.pop_back();
            throw Error(s, context);
        }
        if (!summary.empty() && detail::has_abi_1_3(in_->api)) {
            s = in_->api->route_describe(in_->ctx, method.c_str(), pattern.c_str(), summary.data(), summary.size());
            if (s != KERBERUS_OK) throw Error(s, context + " summary");
        }
    }

    // Metric families (init only). `name` follows Prometheus' rules, with
    // its unit (_seconds, _bytes) and, for a counter, _total; `labels` name
    // the dimensions each series gives values for. Throws kerberus::Error
    // when the host refuses the spec (the log line says which rule); on a
    // host older than ABI 1.3 the family is inert.
    MetricFamily counter(CStr name, CStr help, const std::vector<std::string>& labels = {}) const {
        return family(KERBERUS_METRIC_COUNTER, name, help, labels, {});
    }
    MetricFamily gauge(CStr name, CStr help, const std::vector<std::string>& labels = {}) const {
        return family(KERBERUS_METRIC_GAUGE, name, help, labels, {});
    }
    // `buckets`: upper bounds, increasing; empty for .005 s to 10 s.
    MetricFamily histogram(CStr name, CStr help, const std::vector<std::string>& labels = {},
                           const std::vector<double>& buckets = {}) const {
        return family(KERBERUS_METRIC_HISTOGRAM, name, help, labels, buckets);
    }

    // Sends an HTTP request through the daemon's shared client and returns
    // its id (for cancel_fetch) at once; never waits for the network.
    // `done` is any callable taking (const OutboundResponse&), move-only ones
    // included, so a PendingRequest can be moved into it. It runs exactly
    // once:
    //   - later, on one of the host's outbound threads (callbacks of
    //     different fetches may run concurrently), with the response or the
    //     reason there is none. It must not block; answering a
    //     PendingRequest is fine. What it throws is logged at ERROR.
    //   - or, when the host refuses the request (bad method or URL:
    //     KERBERUS_ERR_INVALID; the plugin not running: KERBERUS_ERR_STATE; a
    //     host older than ABI 1.1: KERBERUS_ERR_STATE as well), before fetch
    //     returns std::nullopt, on the calling thread, after an ERROR log
    //     line. Don't hold a lock `done` takes while calling fetch.
    // Callbacks may run after stop() has returned (the host cancels what is
    // in flight, before destroying the plugin): a PendingRequest is inert by
    // then, but anything else `done` touches must still be alive.
    template <class Done>
    std::optional<std::uint64_t> fetch(const OutboundRequest& request, Done&& done) const {
        using Callable = std::decay_t<Done>;
        static_assert(std::is_invocable_v<Callable&, const OutboundResponse&>,
                      "Host::fetch: `done` must be callable with (const kerberus::OutboundResponse&)");
        return start_fetch(request, std::make_unique<detail::FetchCallOf<Callable>>(in_, std::forward<Done>(done)));
    }

    // fetch(), with the answer delivered as it arrives (plugin.h
    // outbound_stream, ABI 1.4), so its size is not bounded by memory:
    //   on_head(int status, const std::vector<std::pair<std::string_view,
    //           std::string_view>>& headers)            once, first;
    //   on_body(std::string_view piece) -> kerberus_status  per piece:
    //           KERBERUS_BUSY pauses until resume_fetch(id);
    //   done(const OutboundResponse&)                     last, exactly once
    //           (its body is empty; a failure after the head shows here).
    // All on the fetch's outbound thread, one at a time. If on_head or
    // on_body throws, the rest of the body is dropped and done sees
    // KERBERUS_ERR_INTERNAL. max_response_bytes 0 means no limit; timeout
    // bounds each wait for the upstream, not the whole. A host older than
    // ABI 1.4 refuses it as fetch() does (KERBERUS_ERR_STATE).
    template <class Head, class Body, class Done>
    std::optional<std::uint64_t> fetch_stream(const OutboundRequest& request, Head&& on_head, Body&& on_body,
                                              Done&& done) const {
        using Call = detail::StreamCallOf<std::decay_t<Head>, std::decay_t<Body>, std::decay_t<Done>>;
        auto call = std::make_unique<Call>(in_, std::forward<Head>(on_head), std::forward<Body>(on_body),
                                           std::forward<Done>(done));
        kerberus_outbound_stream_fns fns{};
        fns.struct_size = sizeof fns;
        fns.on_head = &Call::on_head;
        fns.on_body = &Call::on_body;
        return start_fetch(request, std::move(call), &fns);
    }

    // fetch_stream() whose request body is given as it comes (ABI 1.5,
    // OutboundRequest::stream_body): write_fetch_body(id, piece) returns
    // KERBERUS_BUSY when the upstream reads slower than pieces come, and
    // `on_writable()` then runs (on the fetch's outbound thread) when it may
    // write again; end_fetch_body(id) ends it. A host older than ABI 1.5
    // refuses the fetch (KERBERUS_ERR_STATE).
    template <class Head, class Body, class Writable, class Done>
    std::optional<std::uint64_t> fetch_stream(const OutboundRequest& request, Head&& on_head, Body&& on_body,
                                              Writable&& on_writable, Done&& done) const {
        using Call = detail::StreamCallOf<std::decay_t<Head>, std::decay_t<Body>, std::decay_t<Done>>;
        auto call = std::make_unique<Call>(in_, std::forward<Head>(on_head), std::forward<Body>(on_body),
                                           std::forward<Done>(done));
        call->writable = std::forward<Writable>(on_writable);
        kerberus_outbound_stream_fns fns{};
        fns.struct_size = sizeof fns;
        fns.on_head = &Call::on_head;
        fns.on_body = &Call::on_body;
        fns.on_body_writable = &Call::on_body_writable;
        return start_fetch(request, std::move(call), &fns);
    }

    // The next piece of a fetch's streamed request body: KERBERUS_OK,
    // KERBERUS_BUSY (taken; wait for on_writable), KERBERUS_ERR_NOT_FOUND
    // (the fetch completed: the upstream answered or failed), or
    // KERBERUS_ERR_INVALID (past body_length, or after the end).
    kerberus_status write_fetch_body(std::uint64_t id, std::string_view piece) const noexcept {
        if (!detail::has_body_streaming(in_->api)) return KERBERUS_ERR_STATE;
        return in_->api->outbound_body_write(in_->ctx, id, detail::data_of(piece), piece.size());
    }
    kerberus_status end_fetch_body(std::uint64_t id) const noexcept {
        if (!detail::has_body_streaming(in_->api)) return KERBERUS_ERR_STATE;
        return in_->api->outbound_body_end(in_->ctx, id);
    }

    // Marks a route registered with route() as taking its body streamed
    // (ABI 1.5, KERBERUS_ROUTE_STREAMED_BODY): its handler runs when the
    // head has arrived and reads the body with PendingRequest::read_body.
    // Init only. Throws kerberus::Error when the host refuses, or predates
    // ABI 1.5 (KERBERUS_ERR_STATE).
    void stream_body_of(CStr method, CStr pattern) {
        std::string context = std::string("route ") + method.c_str() + " " + pattern.c_str() + " streamed body";
        if (!detail::has_body_streaming(in_->api)) throw Error(KERBERUS_ERR_STATE, context + " (host older than ABI 1.5)");
        add_route_flag(method, pattern, KERBERUS_ROUTE_STREAMED_BODY, context);
    }

    // Marks a route registered with route() as answering callers without
    // credentials (ABI 1.6, KERBERUS_ROUTE_PUBLIC): Backstage's
    // httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' }). The
    // operator may still close it (plugins.<id>.auth). Init only. Throws
    // kerberus::Error when the host refuses, or predates ABI 1.6
    // (KERBERUS_ERR_STATE).
    void allow_unauthenticated(CStr method, CStr pattern) {
        std::string context = std::string("route ") + method.c_str() + " " + pattern.c_str() + " public";
        if (!detail::has_callers(in_->api)) throw Error(KERBERUS_ERR_STATE, context + " (host older than ABI 1.6)");
        add_route_flag(method, pattern, KERBERUS_ROUTE_PUBLIC, context);
    }

    // Resumes a streamed fetch paused by on_body's KERBERUS_BUSY. false when
    // it already completed. Thread: any.
    bool resume_fetch(std::uint64_t id) const noexcept {
        return detail::has_streaming(in_->api) && in_->api->outbound_resume(in_->ctx, id) == KERBERUS_OK;
    }

    // Cancels a fetch in flight: its callback then runs with
    // KERBERUS_ERR_CANCELLED, on one of the outbound threads. false when it already
    // completed (its callback ran or is running), or the host has no
    // outbound HTTP.
    bool cancel_fetch(std::uint64_t id) const noexcept {
        return detail::has_outbound(in_->api) && in_->api->outbound_cancel(in_->ctx, id) == KERBERUS_OK;
    }

private:
    friend class Plugin;
    friend struct detail::Lifecycle;

    void add_route_flag(CStr method, CStr pattern, std::uint32_t flag, const std::string& context) {
        std::uint32_t& flags = in_->route_flags[std::string(method.c_str()) + " " + pattern.c_str()];
        kerberus_status s = in_->api->route_set_flags(in_->ctx, method.c_str(), pattern.c_str(), flags | flag);
        if (s != KERBERUS_OK) throw Error(s, context);
        flags |= flag;
    }

    // Handlers hold a pointer to their Route, so Routes never move.
    struct Route {
        Host* host;
        Handler handler;
    };

    Host() : in_(std::make_shared<detail::Instance>()) {}

    void attach(const kerberus_host_api* api, kerberus_plugin_ctx* ctx) {
        in_->api = api;
        in_->ctx = ctx;
    }

    std::optional<std::uint64_t> start_fetch(const OutboundRequest& request, std::unique_ptr<detail::FetchCall> call,
                                             const kerberus_outbound_stream_fns* stream = nullptr) const {
        kerberus_status s = KERBERUS_ERR_STATE;
        const char* why = request.stream_body ? "this host has no streamed request bodies (it predates ABI 1.5)"
                          : stream        ? "this host has no streamed outbound HTTP (it predates ABI 1.4)"
                                          : "this host has no outbound HTTP (it predates ABI 1.1)";
        const bool supported = request.stream_body ? stream != nullptr && detail::has_body_streaming(in_->api)
                               : stream            ? detail::has_streaming(in_->api)
                                                   : detail::has_outbound(in_->api);
        if (supported) {
            std::vector<kerberus_header> headers;
            headers.reserve(request.headers.size());
            for (const auto& [name, value] : request.headers) {
                headers.push_back({{detail::data_of(name), name.size()}, {detail::data_of(value), value.size()}});
            }
            kerberus_outbound_request out{};
            out.struct_size = sizeof out;
            out.method = request.method.c_str();
            out.url = request.url.c_str();
            out.headers = headers.data();
            out.header_count = headers.size();
            out.body = detail::data_of(request.body);
            out.body_len = request.body.size();
            out.connect_timeout_ms = detail::timeout_ms(request.connect_timeout);
            out.timeout_ms = detail::timeout_ms(request.timeout);
            out.max_response_bytes = request.max_response_bytes;
            out.flags = request.insecure_tls ? KERBERUS_OUTBOUND_INSECURE_TLS : 0u;
            if (request.stream_body) {
                out.flags |= KERBERUS_OUTBOUND_STREAMED_BODY;
                if (request.upgrade) out.flags |= KERBERUS_OUTBOUND_UPGRADE;
                out.body = nullptr;
                out.body_len = request.body_length < 0 ? KERBERUS_BODY_LENGTH_UNKNOWN
                                                       : static_cast<std::size_t>(request.body_length);
            }
            std::uint64_t id = 0;
            s = stream ? in_->api->outbound_stream(in_->ctx, &out, stream, &detail::FetchCall::complete, call.get(), &id)
                       : in_->api->outbound_send(in_->ctx, &out, &detail::FetchCall::complete, call.get(), &id);
            // From here the host owns the call (it may even have completed
            // and freed it already): let go without touching it.
            if (s == KERBERUS_OK) {
                call.release();
                return id;
            }
            why = s == KERBERUS_ERR_INVALID ? "the host refused the request (bad method, URL or header)"
                  : s == KERBERUS_ERR_STATE ? "the plugin is not running (before init or after stop)"
                                            : "the host refused the request";
        }
        detail::log(*in_, LogLevel::error, {"fetch ", request.method, ": ", why, " (", status_name(s), ")"});
        kerberus_outbound_response refused{};
        refused.struct_size = sizeof refused;
        refused.result = s;
        refused.error = why;
        detail::FetchCall::complete(call.release(), &refused);
        return std::nullopt;
    }

    MetricFamily family(int type, CStr name, CStr help, const std::vector<std::string>& labels,
                        const std::vector<double>& buckets) const {
        if (!detail::has_abi_1_3(in_->api)) return {};
        std::vector<const char*> label_names;
        for (const auto& l : labels) label_names.push_back(l.c_str());
        kerberus_metric_spec spec{};
        spec.struct_size = sizeof spec;
        spec.type = type;
        spec.name = name.c_str();
        spec.help = help.c_str();
        spec.label_names = label_names.data();
        spec.label_count = label_names.size();
        spec.buckets = buckets.data();
        spec.bucket_count = buckets.size();
        kerberus_metric_family* out = nullptr;
        kerberus_status s = in_->api->metric_family(in_->ctx, &spec, &out);
        if (s != KERBERUS_OK) throw Error(s, std::string("metric ") + name.c_str());
        return MetricFamily(in_->api, out);
    }

    // A wrong type says where and what was expected, as the host says its
    // own configuration errors (a config schema catches these before init).
    bool found(kerberus_status s, CStr key, const char* expected) const {
        if (s == KERBERUS_OK) return true;
        if (s == KERBERUS_ERR_NOT_FOUND) return false;
        std::string where = std::string("config key ") + key.c_str();
        if (s == KERBERUS_ERR_WRONG_TYPE) throw Error(s, where + ": expected " + expected, Error::Message{});
        throw Error(s, where);
    }

    static kerberus_status dispatch(kerberus_request* req, void* user_data) noexcept {
        const Route& route = *static_cast<const Route*>(user_data);
        Request request(route.host->in_, req);
        bool threw = true;
        try {
            route.handler(request);
            threw = false;
        } catch (const std::exception& e) {
            request.log_exception(e.what());
        } catch (...) {
            request.log_exception("an exception not derived from std::exception");
        }
        if (request.kept_) return KERBERUS_ASYNC;
        if (request.responded_) return KERBERUS_OK;
        // Unanswered: the host sends its 500 in the daemon's error format and
        // logs the route — "failed" after an exception, whose what() the line
        // above gave, "returned without responding" otherwise.
        return threw ? KERBERUS_ERR_INTERNAL : KERBERUS_OK;
    }

    std::shared_ptr<detail::Instance> in_;
    std::vector<std::unique_ptr<Route>> routes_;
};

// Derive from Plugin, override init() (and stop() / health() if needed) and
// name the class in KERBERUS_PLUGIN. One object is created per init and
// destroyed by the host's destroy callback; it must be default-constructible.
class Plugin {
public:
    Plugin() = default;
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    // Register routes, read config, start the plugin's own threads. Throw to
    // fail the plugin: what() becomes its error (its routes answer 503). The
    // destructor runs either way; stop() only after a successful init.
    virtual void init(Host& host) = 0;

    // No new requests will arrive. Answer or drop the requests you keep and
    // join your threads before returning. Main thread.
    virtual void stop() {}

    // std::nullopt when the plugin can serve; otherwise why not. Any thread,
    // concurrently with handlers; must be quick and must not block.
    virtual std::optional<std::string> health() { return std::nullopt; }

protected:
    Host& host() noexcept { return host_; }
    const Host& host() const noexcept { return host_; }

private:
    friend struct detail::Lifecycle;
    Host host_;
};

namespace detail {

// The descriptor's callbacks. Each one is noexcept: should anything escape
// after all, the process terminates instead of unwinding into the host.
struct Lifecycle {
    static kerberus_status init(Plugin* (*make)(), const kerberus_host_api* api, kerberus_plugin_ctx* ctx,
                                void** instance) noexcept {
        *instance = nullptr;
        if (!has_abi_1_0(api)) return KERBERUS_ERR_INVALID;  // no usable set_error to say more
        try {
            Plugin* plugin = make();
            *instance = plugin;  // the host calls destroy even after a failed init
            plugin->host_.attach(api, ctx);
            plugin->init(plugin->host_);
            return KERBERUS_OK;
        } catch (const Error& e) {
            set_error(api, ctx, e.what());
            return e.status() < 0 ? e.status() : KERBERUS_ERR_INTERNAL;
        } catch (const std::exception& e) {
            set_error(api, ctx, e.what());
        } catch (...) {
            set_error(api, ctx, "init threw an exception not derived from std::exception");
        }
        return KERBERUS_ERR_INTERNAL;
    }

    static void stop(void* instance) noexcept {
        if (instance == nullptr) return;
        Plugin& plugin = *static_cast<Plugin*>(instance);
        try {
            plugin.stop();
        } catch (const std::exception& e) {
            log(*plugin.host_.in_, LogLevel::error, {"stop() threw: ", e.what()});
        } catch (...) {
            log(*plugin.host_.in_, LogLevel::error, {"stop() threw an exception not derived from std::exception"});
        }
        plugin.host_.in_->stopped.store(true, std::memory_order_release);
    }

    static void destroy(void* instance) noexcept { delete static_cast<Plugin*>(instance); }

    static kerberus_status health(void* instance) noexcept {
        if (instance == nullptr) return KERBERUS_ERR_STATE;  // its init failed
        Plugin& plugin = *static_cast<Plugin*>(instance);
        const Instance& in = *plugin.host_.in_;
        try {
            std::optional<std::string> problem = plugin.health();
            if (!problem) return KERBERUS_OK;
            set_error(in.api, in.ctx, *problem);
        } catch (const std::exception& e) {
            set_error(in.api, in.ctx, e.what());
        } catch (...) {
            set_error(in.api, in.ctx, "health() threw an exception not derived from std::exception");
        }
        return KERBERUS_ERR_INTERNAL;
    }
};

template <class P>
Plugin* make_plugin() {
    static_assert(std::is_base_of_v<Plugin, P>, "KERBERUS_PLUGIN: the class must derive from kerberus::Plugin");
    static_assert(std::is_default_constructible_v<P>, "KERBERUS_PLUGIN: the class must be default-constructible");
    return new P();
}

template <class P>
kerberus_status init(const kerberus_host_api* api, kerberus_plugin_ctx* ctx, void** instance) noexcept {
    return Lifecycle::init(&make_plugin<P>, api, ctx, instance);
}

}  // namespace detail
}  // namespace kerberus

// Defines the plugin's descriptor and its entry function kerberus_plugin_v1.
// Use once per plugin, at namespace scope, after the class definition:
//
//     KERBERUS_PLUGIN(Greeter, "greeter", "1.0.0", "Greets whoever asks")
//
// `id` is [a-z0-9][a-z0-9-]* (at most 64 characters): the route prefix
// /api/<id>/ and the config namespace plugins.<id>. `version` is
// MAJOR.MINOR.PATCH; `description` one line, or NULL.
// The declaration before the definition keeps -Wmissing-declarations quiet.
#define KERBERUS_PLUGIN(ClassName, id, version, description) \
    KERBERUS_PLUGIN_WITH_SCHEMA(ClassName, id, version, description, nullptr)

// The same, with a JSON Schema for the plugin's settings (see
// config_schema in plugin.h): the host checks the settings against it, and
// fills in its defaults, before init() reads them.
//
//     KERBERUS_PLUGIN_WITH_SCHEMA(Greeter, "greeter", "1.0.0", "Greets whoever asks", R"({
//         "type": "object",
//         "properties": { "greeting": { "type": "string", "default": "Hello" } },
//         "additionalProperties": false
//     })")
#define KERBERUS_PLUGIN_WITH_SCHEMA(ClassName, id, version, description, schema)                       \
    KERBERUS_PLUGIN_ENTRY;                                                                               \
    KERBERUS_PLUGIN_ENTRY {                                                                              \
        static const kerberus_plugin_descriptor kerberus_descriptor = {                                 \
            KERBERUS_DESCRIPTOR_HEADER,          id,                                                     \
            version,                             description,                                            \
            &::kerberus::detail::init<ClassName>, &::kerberus::detail::Lifecycle::stop,                  \
            &::kerberus::detail::Lifecycle::destroy, &::kerberus::detail::Lifecycle::health,             \
            schema};                                                                                     \
        return &kerberus_descriptor;                                                                     \
    }

#endif  // KERBERUS_PLUGIN_HPP
