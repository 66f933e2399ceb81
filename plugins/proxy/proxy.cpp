// proxy — forwards /api/proxy/<endpoint>/... to configured upstream
// services, the way Backstage's proxy-backend does: endpoints keyed by
// path, allowlisted headers both ways, optional path rewriting, a method
// filter and per-endpoint headers (tokens) the client never sees.
//
// Every request is answered asynchronously: the handler keeps it, hands the
// upstream request to the daemon's outbound client and returns; the
// completion callback answers it on the outbound thread. No thread of the
// proxy ever waits for an upstream.
#include <kerberus/plugin.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config_schema.h"
#include "endpoint_config.h"
#include "header_forwarding.h"
#include "path_mapping.h"

namespace {

using proxy::Endpoint;

// Typical requests carry fewer headers than this; one allocation then
// holds them all.
constexpr std::size_t kExpectedHeaders = 16;

class Proxy final : public kerberus::Plugin {
public:
    void init(kerberus::Host& host) override {
        proxy::ProxyConfig config = proxy::parse_config(host.config_json());
        endpoints_ = std::move(config.endpoints);
        for (const std::string& warning : config.warnings) host.warn(warning);
        host.route("*", "/*", [this](kerberus::Request& r) { handle(r); },
                   "Forwards the rest of the path to the endpoint it starts with");
        // Request bodies go upstream as they arrive, whatever their size.
        host.stream_body_of("*", "/*");
        for (const Endpoint& ep : endpoints_) add_endpoint_routes(host, ep);
        metrics_ = make_metrics(host, endpoints_);
        std::string summary = std::to_string(endpoints_.size()) + (endpoints_.size() == 1 ? " endpoint" : " endpoints");
        for (std::size_t i = 0; i < endpoints_.size(); ++i) summary += (i == 0 ? ": " : ", ") + endpoints_[i].key;
        host.info(summary);
    }

private:
    // Each endpoint gets routes of its own, so the daemon checks callers as
    // its `credentials` say (Backstage: dangerously-allow-unauthenticated
    // adds an auth policy for the endpoint's path). Every endpoint needs
    // them, not only the open ones: /a open and /a/b closed must not let
    // /a/b/x through /a/*. An endpoint whose key is no literal route
    // pattern (":x", "*") stays on "/*", which needs credentials.
    void add_endpoint_routes(kerberus::Host& host, const Endpoint& ep) {
        const bool open = ep.credentials == proxy::Credentials::dangerously_allow_unauthenticated;
        const std::string summary = "Forwards to " + ep.key + (open ? " (no credentials needed)" : "");
        for (const std::string& pattern : {ep.key, ep.key + "/*"}) {
            try {
                host.route("*", pattern, [this](kerberus::Request& r) { handle(r); }, summary);
                host.stream_body_of("*", pattern);
                if (open) host.allow_unauthenticated("*", pattern);
            } catch (const kerberus::Error& e) {
                if (open) host.warn("endpoint " + ep.key + ": " + e.what() + "; its callers need credentials");
            }
        }
    }

    void handle(kerberus::Request& r) const {
        const Endpoint* ep = proxy::match_endpoint(endpoints_, r.path());
        if (ep == nullptr) {
            reject(r, 404, "no proxy endpoint matches this path");
            return;
        }
        std::string_view raw_path = r.raw_path();
        if (raw_path.size() > proxy::kMaxPathBytes) {
            reject(r, 414, prefixed(*ep, "path longer than " + std::to_string(proxy::kMaxPathBytes) + " bytes"));
            return;
        }
        if (const char* why = proxy::unsafe_path_reason(raw_path)) {
            reject(r, 400, prefixed(*ep, std::string("invalid path: ") + why));
            return;
        }
        std::string_view method = r.method();
        if (!ep->allows(method)) {
            r.add_header("Allow", ep->allow);
            reject(r, 405, prefixed(*ep, "method " + std::string(method) + " not allowed; allowed: " + ep->allow));
            return;
        }

        const bool tunnel = ep->ws && method == "GET" && asks_for_websocket(r);
        if (tunnel && ep->target.base.rfind("https://", 0) == 0) {
            reject(r, 501, prefixed(*ep, "WebSocket tunnels to https:// targets are not supported"));
            return;
        }

        kerberus::OutboundRequest out;
        out.method.assign(method);
        out.url = proxy::upstream_url(*ep, raw_path, r.query());
        out.headers.reserve(kExpectedHeaders);
        proxy::UpstreamHeaders headers(*ep, out.headers);
        r.for_each_header([&headers](std::string_view name, std::string_view value) {
            headers.add_client_header(name, value);
        });
        headers.finish(r.remote_address(), r.request_id());
        out.timeout = ep->timeout;
        out.max_response_bytes = ep->max_response_bytes;
        const std::optional<std::int64_t> body_length = tunnel ? std::nullopt : request_body_length(r);
        if (body_length) {
            out.stream_body = true;
            out.body_length = *body_length;
        }
        if (tunnel) {
            // Upgrade and Connection are hop-by-hop: the tunnel asks for
            // them again, with the handshake's own headers.
            r.for_each_header([&out](std::string_view name, std::string_view value) {
                if (proxy::is_websocket_header(name)) out.headers.emplace_back(name, value);
            });
            out.headers.emplace_back("Connection", "Upgrade");
            out.headers.emplace_back("Upgrade", r.header("Upgrade").value_or("websocket"));
            out.stream_body = true;
            out.upgrade = true;
        }
        auto relay = std::make_shared<Relay>(ep, r.keep());
        relay->tunnel = tunnel;
        // The body is delivered on this worker after the handler returns,
        // when the fetch id below is known.
        if (body_length) read_body(relay);
        std::optional<std::uint64_t> id = host().fetch_stream(
            out, [this, relay](int status, const Headers& headers) { on_head(relay, status, headers); },
            [this, relay](std::string_view piece) { return on_body(*relay, piece); },
            [relay] { relay->resume_body(); },
            [this, relay](const kerberus::OutboundResponse& response) { on_done(*relay, response); });
        if (id) relay->known_id(host(), *id);
    }

    using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

    // One proxied exchange. The fetch's callbacks run on its outbound thread
    // one at a time; the client's stream events on a worker thread, and
    // only turn into resume or cancel calls on the fetch.
    struct Relay {
        Relay(const Endpoint* e, kerberus::PendingRequest p)
            : ep(e), pending(std::move(p)), sent(std::chrono::steady_clock::now()) {}

        const Endpoint* ep;
        kerberus::PendingRequest pending;  // until the head arrives
        kerberus::ResponseStream stream;   // from then on
        std::chrono::steady_clock::time_point sent;
        int status = 0;

        // The fetch id arrives after fetch_stream returns, which may be
        // after the first events: what they asked for waits for it.
        std::mutex mutex;
        std::uint64_t id = 0;
        bool resume_wanted = false;
        bool cancel_wanted = false;
        // Why the client's body broke off (on its worker), for on_done's answer.
        std::atomic<kerberus_status> body_error{KERBERUS_OK};
        bool tunnel = false;  // a WebSocket upgrade on a `ws` endpoint

        std::uint64_t fetch_id() {
            std::lock_guard<std::mutex> lock(mutex);
            return id;
        }

        // On the fetch's outbound thread, as are on_head and on_done: the
        // request is in `pending` or `stream`, never both.
        void resume_body() {
            if (stream) stream.resume_body();
            else if (pending) pending.resume_body();
        }

        void known_id(const kerberus::Host& host, std::uint64_t fetch) {
            bool resume, cancel;
            {
                std::lock_guard<std::mutex> lock(mutex);
                id = fetch;
                resume = resume_wanted;
                cancel = cancel_wanted;
            }
            if (cancel) host.cancel_fetch(fetch);
            else if (resume) host.resume_fetch(fetch);
        }

        // On a worker thread: the client read what waited, or left.
        void on_event(const kerberus::Host& host, kerberus::StreamEvent event) {
            std::uint64_t fetch;
            {
                std::lock_guard<std::mutex> lock(mutex);
                fetch = id;
                if (fetch == 0) {
                    (event == kerberus::StreamEvent::closed ? cancel_wanted : resume_wanted) = true;
                    return;
                }
            }
            if (event == kerberus::StreamEvent::closed) host.cancel_fetch(fetch);
            else host.resume_fetch(fetch);
        }
    };

    // The client's body as RFC 9112 6.3 frames a request's: chunked (its
    // length unknown, -1), a Content-Length, or none.
    static std::optional<std::int64_t> request_body_length(const kerberus::Request& r) {
        if (r.header("Transfer-Encoding")) return -1;
        std::optional<std::string_view> length = r.header("Content-Length");
        if (!length) return std::nullopt;
        std::int64_t n = parse_length(*length);
        return n > 0 ? std::optional<std::int64_t>(n) : std::nullopt;
    }

    // Each piece goes upstream as it comes; when the upstream reads slower,
    // the client is paused until the outbound client has sent what waits.
    void read_body(const std::shared_ptr<Relay>& relay) const {
        const kerberus::Host& h = host();
        relay->pending.read_body(
            [relay, &h](std::string_view piece) {
                kerberus_status written = h.write_fetch_body(relay->fetch_id(), piece);
                // Not found: the upstream answered (or failed) already; the
                // rest of the body has nowhere to go and is dropped.
                return written == KERBERUS_BUSY ? KERBERUS_BUSY : KERBERUS_OK;
            },
            [relay, &h](kerberus_status result) {
                if (result == KERBERUS_OK) {
                    h.end_fetch_body(relay->fetch_id());
                    return;
                }
                relay->body_error.store(result);
                h.cancel_fetch(relay->fetch_id());
            });
    }

    // The upstream's status and headers: the client's answer starts with
    // them. Streamed, so it carries the upstream's headers alone: the daemon
    // adds no Content-Type of its own (RFC 9110 8.3). An answer without
    // content reports the length the upstream stated for it (RFC 9110 8.6).
    void on_head(const std::shared_ptr<Relay>& shared, int status, const Headers& headers) const {
        Relay& relay = *shared;
        relay.status = status;
        if (status == 101 && relay.tunnel) {
            open_tunnel(shared, headers);
            return;
        }
        if (status < 200 || status > 599) return;  // on_done answers 502
        const Endpoint& ep = *relay.ep;
        kerberus::PendingRequest& pending = relay.pending;
        // add_header wants a terminated name; one buffer serves them all.
        std::string name;
        proxy::for_each_returned_header(ep, headers, [&](std::string_view n, std::string_view value) {
            name.assign(n);
            pending.add_header(name, value);
        });
        std::int64_t length = -1;
        const bool no_content = pending.method() == "HEAD" || status == 304 || status == 204;
        if (auto stated = proxy::stated_length(headers); stated && (no_content || !proxy::has_transfer_coding(headers)))
            length = parse_length(*stated);
        if (status == 204) length = -1;
        // Events stop before on_done's end or abort returns, and the relay
        // outlives on_done: a reference is enough.
        kerberus_status started = KERBERUS_OK;
        const kerberus::Host& h = host();
        relay.stream = pending.stream(
            status, length, [&relay, &h](kerberus::StreamEvent event) { relay.on_event(h, event); }, &started);
        if (!relay.stream && pending) {
            pending.respond_error(502, prefixed(ep, std::string("upstream answer could not be relayed: ") +
                                                        kerberus::status_name(started)));
        }
    }

    // The upstream took the upgrade: the client gets its 101 and the
    // handshake's headers, and from then on the bytes of both sides are
    // relayed as they come, each pausing the other when it reads slower.
    void open_tunnel(const std::shared_ptr<Relay>& shared, const Headers& headers) const {
        Relay& relay = *shared;
        std::string name;
        for (const auto& [n, value] : headers) {
            if (!proxy::iequals(n, "upgrade") && !proxy::is_websocket_header(n)) continue;
            name.assign(n);
            relay.pending.add_header(name, value);
        }
        read_body(shared);
        kerberus_status started = KERBERUS_OK;
        const kerberus::Host& h = host();
        relay.stream = relay.pending.stream(
            101, -1, [&relay, &h](kerberus::StreamEvent event) { relay.on_event(h, event); }, &started);
        if (!relay.stream && relay.pending) {
            relay.pending.respond_error(502, prefixed(*relay.ep, std::string("upstream upgrade could not be relayed: ") +
                                                                    kerberus::status_name(started)));
        }
    }

    // The client asked for a WebSocket (RFC 6455 4.1): "Upgrade: websocket"
    // and "upgrade" among its Connection options.
    static bool asks_for_websocket(const kerberus::Request& r) {
        std::optional<std::string_view> upgrade = r.header("Upgrade");
        std::optional<std::string_view> connection = r.header("Connection");
        if (!upgrade || !connection) return false;
        bool websocket = false, upgrading = false;
        for_each_token(*upgrade, [&](std::string_view t) { websocket = websocket || proxy::iequals(t, "websocket"); });
        for_each_token(*connection, [&](std::string_view t) { upgrading = upgrading || proxy::iequals(t, "upgrade"); });
        return websocket && upgrading;
    }

    // Calls f(token) for each element of a comma-separated list, trimmed.
    template <class F>
    static void for_each_token(std::string_view list, F&& f) {
        while (!list.empty()) {
            std::size_t comma = std::min(list.find(','), list.size());
            std::string_view token = list.substr(0, comma);
            while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
            while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
            if (!token.empty()) f(token);
            list.remove_prefix(std::min(comma + 1, list.size()));
        }
    }

    // A piece of the upstream's body goes straight to the client; a slow
    // client pauses the upstream (its TCP window fills) until it catches up.
    kerberus_status on_body(Relay& relay, std::string_view piece) const {
        if (!relay.stream) return KERBERUS_OK;  // nothing to relay it to
        kerberus_status written = relay.stream.write(piece);
        if (written == KERBERUS_OK || written == KERBERUS_BUSY) return written;
        // The client left (or the answer is over its stated length): the
        // upstream need not go on.
        relay.on_event(host(), kerberus::StreamEvent::closed);
        return KERBERUS_OK;
    }

    // Last: ends the client's answer, or cuts it off when the upstream
    // broke off midway, or answers the error when nothing was relayed yet.
    void on_done(Relay& relay, const kerberus::OutboundResponse& response) const {
        const Endpoint& ep = *relay.ep;
        record(ep, response, std::chrono::steady_clock::now() - relay.sent);
        if (kerberus_status broke = relay.body_error.load(); broke != KERBERUS_OK && !relay.stream) {
            // The fetch was cancelled because the client's body broke off.
            const bool timeout = broke == KERBERUS_ERR_TIMEOUT;
            relay.pending.respond_error(timeout ? 408 : 400,
                                        prefixed(ep, timeout ? "the request body stopped arriving"
                                                             : "the request body broke off or was malformed"));
            return;
        }
        if (!relay.stream) {
            complete(ep, relay.pending, response);
            return;
        }
        if (response.result == KERBERUS_OK) {
            relay.stream.end();
            return;
        }
        if (response.result == KERBERUS_ERR_CANCELLED) {
            // The client left (or the proxy stops): what it got must not
            // look complete.
            relay.stream.abort();
            return;
        }
        if (relay.tunnel && response.result == KERBERUS_ERR_TIMEOUT) {
            // An idle tunnel reaching its limit is how tunnels end, not a fault.
            host().info(prefixed(ep, "WebSocket tunnel closed after " + std::to_string(ep.timeout.count()) +
                                         " ms without traffic"));
            relay.stream.end();
            return;
        }
        std::string line = prefixed(ep, response.result == KERBERUS_ERR_TOO_LARGE
                                            ? "upstream answer larger than maxResponseSize; the client's was cut off"
                                            : "upstream answer broke off after its head; the client's was cut off");
        if (!response.error.empty()) line.append(": ").append(response.error);
        host().warn(line);
        relay.stream.abort();
    }

    // Per endpoint: upstream latency, answers by status class, failures by
    // reason; every series made here, so recording takes no lock.
    struct EndpointMetrics {
        kerberus::Metric duration;
        kerberus::Metric by_class[5];  // 1xx .. 5xx
        kerberus::Metric timeout, unreachable, too_large, invalid;
    };

    static std::vector<EndpointMetrics> make_metrics(const kerberus::Host& host, const std::vector<Endpoint>& endpoints) {
        auto duration = host.histogram("upstream_request_duration_seconds",
                                       "Time from sending a request upstream to its whole answer, by endpoint.",
                                       {"endpoint"});
        auto responses = host.counter("upstream_responses_total",
                                      "Upstream answers relayed, by endpoint and status class (2xx, 5xx, ...).",
                                      {"endpoint", "status_class"});
        auto errors = host.counter("upstream_errors_total",
                                   "Upstream requests that got no usable answer, by endpoint and reason "
                                   "(timeout, unreachable, too_large, invalid_status).",
                                   {"endpoint", "reason"});
        std::vector<EndpointMetrics> out(endpoints.size());
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            std::string_view key = endpoints[i].key;
            out[i].duration = duration.with({key});
            static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
            for (int c = 0; c < 5; ++c) out[i].by_class[c] = responses.with({key, kClasses[c]});
            out[i].timeout = errors.with({key, "timeout"});
            out[i].unreachable = errors.with({key, "unreachable"});
            out[i].too_large = errors.with({key, "too_large"});
            out[i].invalid = errors.with({key, "invalid_status"});
        }
        return out;
    }

    void record(const Endpoint& ep, const kerberus::OutboundResponse& response,
                std::chrono::steady_clock::duration took) const {
        const EndpointMetrics& m = metrics_[static_cast<std::size_t>(&ep - endpoints_.data())];
        switch (response.result) {
            case KERBERUS_OK:
                m.duration.observe(took);
                if (response.status >= 100 && response.status <= 599) m.by_class[response.status / 100 - 1].add();
                else m.invalid.add();
                return;
            case KERBERUS_ERR_TIMEOUT: m.timeout.add(); return;
            case KERBERUS_ERR_TOO_LARGE: m.too_large.add(); return;
            case KERBERUS_ERR_CANCELLED:
            case KERBERUS_ERR_STATE: return;  // stopping, not the upstream's doing
            default: m.unreachable.add(); return;
        }
    }

    // On the outbound thread. After stop() the request is the host's (it
    // answered 503): every call on `pending` is then a harmless no-op.
    void complete(const Endpoint& ep, kerberus::PendingRequest& pending, const kerberus::OutboundResponse& response) const {
        switch (response.result) {
            case KERBERUS_OK:
                // A valid answer was relayed as it came: only an invalid
                // status is left to answer here.
                fail(ep, pending, 502, "upstream sent an invalid status", std::to_string(response.status));
                return;
            case KERBERUS_ERR_UNREACHABLE:
                fail(ep, pending, 502, "upstream unreachable", response.error);
                return;
            case KERBERUS_ERR_TIMEOUT:
                fail(ep, pending, 504, "upstream timed out", response.error);
                return;
            case KERBERUS_ERR_TOO_LARGE:
                fail(ep, pending, 502, "upstream response too large", response.error);
                return;
            case KERBERUS_ERR_CANCELLED:
            case KERBERUS_ERR_STATE:
                // The plugin is stopping: what was in flight is cancelled,
                // what comes late is refused.
                pending.respond_error(503, prefixed(ep, "the proxy is stopping"));
                return;
            default:
                fail(ep, pending, 502, "upstream request failed", response.error);
                return;
        }
    }

    // An upstream's Content-Length value; -1 (none stated) unless it is 1
    // to 18 digits.
    static std::int64_t parse_length(std::string_view digits) {
        if (digits.empty() || digits.size() > 18) return -1;
        std::int64_t n = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n;
    }

    // One warning per failed exchange, naming the endpoint, the request line
    // and the outbound client's reason; never headers, bodies or the query.
    void fail(const Endpoint& ep, kerberus::PendingRequest& pending, int status, std::string_view what,
              std::string_view detail) const {
        std::string message = prefixed(ep, what);
        std::string line = message;
        line.append(" (").append(pending.method()).append(" ").append(pending.raw_path()).append(")");
        if (!detail.empty()) line.append(": ").append(detail);
        host().warn(line);
        pending.respond_error(status, message);
    }

    static void reject(kerberus::Request& r, int status, std::string_view message) {
        r.respond_error(status, message);
    }

    static std::string prefixed(const Endpoint& ep, std::string_view what) {
        std::string message = "proxy endpoint ";
        message.append(ep.key).append(": ").append(what);
        return message;
    }

    std::vector<Endpoint> endpoints_;  // sorted by key; read-only once init returns
    std::vector<EndpointMetrics> metrics_;  // one per endpoint, same order
};

}  // namespace

KERBERUS_PLUGIN_WITH_SCHEMA(Proxy, "proxy", "1.0.0",
                            "Forwards /api/proxy/<endpoint>/... to configured upstream services", proxy::kConfigSchema)
