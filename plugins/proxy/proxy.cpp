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

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
        host.route("*", "/*", [this](kerberus::Request& r) { handle(r); });
        std::string summary = std::to_string(endpoints_.size()) + (endpoints_.size() == 1 ? " endpoint" : " endpoints");
        for (std::size_t i = 0; i < endpoints_.size(); ++i) summary += (i == 0 ? ": " : ", ") + endpoints_[i].key;
        host.info(summary);
    }

private:
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

        kerberus::OutboundRequest out;
        out.method.assign(method);
        out.url = proxy::upstream_url(*ep, raw_path, r.query());
        out.headers.reserve(kExpectedHeaders);
        proxy::UpstreamHeaders headers(*ep, out.headers);
        r.for_each_header([&headers](std::string_view name, std::string_view value) {
            headers.add_client_header(name, value);
        });
        headers.finish(r.remote_address());
        out.body.assign(r.body());
        out.timeout = ep->timeout;
        out.max_response_bytes = ep->max_response_bytes;
        host().fetch(out, [this, ep, pending = r.keep()](const kerberus::OutboundResponse& response) mutable {
            complete(*ep, pending, response);
        });
    }

    // On the outbound thread. After stop() the request is the host's (it
    // answered 503): every call on `pending` is then a harmless no-op.
    void complete(const Endpoint& ep, kerberus::PendingRequest& pending, const kerberus::OutboundResponse& response) const {
        switch (response.result) {
            case KERBERUS_OK:
                if (response.status >= 200 && response.status <= 599) {
                    relay(ep, pending, response);
                } else {
                    fail(ep, pending, 502, "upstream sent an invalid status", std::to_string(response.status));
                }
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

    static void relay(const Endpoint& ep, kerberus::PendingRequest& pending, const kerberus::OutboundResponse& response) {
        // add_header wants a terminated name; one buffer serves them all.
        std::string name;
        proxy::for_each_returned_header(ep, response.headers, [&](std::string_view n, std::string_view value) {
            name.assign(n);
            pending.add_header(name, value);
        });
        pending.respond(response.status, response.body);
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
};

}  // namespace

KERBERUS_PLUGIN(Proxy, "proxy", "1.0.0", "Forwards /api/proxy/<endpoint>/... to configured upstream services")
