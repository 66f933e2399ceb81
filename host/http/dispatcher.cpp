#include "http/dispatcher.h"

#include <algorithm>
#include <thread>

#include "common/fault_report.h"
#include "common/status_text.h"
#include "http/error_body.h"
#include "http/path.h"

namespace kerberus::http {
namespace {

using State = Exchange::State;
using Reason = metrics::HostReason;
constexpr std::string_view kApiPrefix = "/api/";

// Exchanges are reused per worker thread: the synchronous path allocates
// none once warm. A kept exchange leaves the thread and a new one is made.
thread_local std::unique_ptr<Exchange> spare_exchange;

}  // namespace

Dispatcher::Dispatcher(Settings settings, std::shared_ptr<spdlog::logger> logger)
    : settings_(settings),
      logger_(std::move(logger)),
      kept_([this](Exchange& ex) { answered(ex); }, settings.request_timeout) {
    publish({});
}

void Dispatcher::publish(const std::vector<std::shared_ptr<PluginInstance>>& plugins,
                         const std::vector<std::string>& disabled,
                         std::shared_ptr<const auth::AccessControl> access) {
    auto next = std::make_shared<Snapshot>();
    next->owners = plugins;
    next->disabled = disabled;
    next->access = std::move(access);
    for (const auto& p : plugins) {
        Published published{p.get(), std::vector<bool>(p->route_count(), true), next->access.get()};
        for (std::size_t i = 0; next->access && i < p->route_count(); ++i) {
            const RouteHandler& h = p->handler(i);
            published.public_routes[i] =
                next->access->route_is_public(p->id(), h.method, h.pattern, (h.flags & KERBERUS_ROUTE_PUBLIC) != 0);
        }
        next->by_id.emplace(p->id(), std::move(published));
        if (p->streams_bodies()) next->streams_bodies = true;
    }
    snapshot_.store(std::move(next));
    // Drawn from one process-wide sequence, so a worker's cached generation
    // can never match a different dispatcher's.
    static std::atomic<uint64_t> generations{0};
    generation_.store(generations.fetch_add(1) + 1, std::memory_order_release);
}

const Dispatcher::Snapshot& Dispatcher::current_snapshot() {
    // Each worker keeps the snapshot it last used; the shared one is loaded
    // (and reference-counted) only when a publish moved the generation on.
    thread_local uint64_t seen = 0;
    thread_local std::shared_ptr<const Snapshot> cached;
    uint64_t now = generation_.load(std::memory_order_acquire);
    if (now != seen) {
        cached = snapshot_.load();
        seen = now;
    }
    return *cached;
}

// The instance that serves `id`, entered (see PluginInstance::enter), or
// null. An instance retired by a reload between the snapshot load and the
// enter is skipped by looking again: its replacement is already published.
const Dispatcher::Published* Dispatcher::enter_plugin(std::string_view id) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        const Snapshot& snap = current_snapshot();
        auto it = snap.by_id.find(id);
        if (it == snap.by_id.end()) return nullptr;
        if (it->second.plugin->enter()) return &it->second;
        std::this_thread::yield();
    }
    return nullptr;
}

bool Dispatcher::handle(const ParsedRequest& request, Connection to, const Arrival& arrival,
                        std::shared_ptr<RequestBody> body) {
    if (!spare_exchange) spare_exchange = std::make_unique<Exchange>();
    Exchange& ex = *spare_exchange;
    in_flight_.fetch_add(1, std::memory_order_acq_rel);
    bool keep = request.keep_alive && !draining_.load(std::memory_order_relaxed);
    ex.begin(request, std::move(to), arrival.remote, keep);
    ex.dispatcher = this;
    if (body) ex.set_arriving_body(std::move(body));
    return route(ex, arrival.pipelined);
}

bool Dispatcher::streams_body(const ParsedRequest& request) {
    if (!plugin_routes_) return false;
    const Snapshot& snap = current_snapshot();
    if (!snap.streams_bodies) return false;
    std::string_view raw, query;
    split_target(request.target, raw, query);
    thread_local std::string path;
    if (normalise_path(raw, path, settings_.encoded_slashes).error != PathError::none) return false;
    std::string_view p(path);
    if (p.substr(0, kApiPrefix.size()) != kApiPrefix) return false;
    std::string_view rest = p.substr(kApiPrefix.size());
    std::string_view id = rest.substr(0, rest.find('/'));
    auto it = snap.by_id.find(id);
    if (it == snap.by_id.end() || !it->second.plugin->streams_bodies()) return false;
    std::string_view relative = rest.substr(id.size());
    if (relative.empty()) relative = "/";
    RouteParams params;
    MatchResult match = it->second.plugin->routes().match(request.method, relative, params);
    if (match.kind != MatchResult::Kind::found) return false;
    return (it->second.plugin->handler(match.target).flags & KERBERUS_ROUTE_STREAMED_BODY) != 0;
}

void Dispatcher::reject(Connection to, int status, std::string_view message, std::string_view method,
                        std::string_view target) {
    Exchange ex;
    ex.dispatcher = this;
    ex.begin_rejection(std::move(to), method, target);
    ex.send_host_error(metrics::parse_failure_reason(status), message);
}

bool Dispatcher::answer_error(Exchange& ex, metrics::HostReason reason, std::string_view message,
                              std::string_view extra) {
    ex.state.store(State::responded, std::memory_order_relaxed);
    ex.send_host_error(reason, message, extra);
    answered(ex);
    return true;
}

void Dispatcher::answer(Exchange& ex, int status, std::string_view content_type, std::string_view body) {
    ex.state.store(State::responded, std::memory_order_relaxed);
    if (!content_type.empty()) ex.add_response_header("Content-Type", content_type);
    ex.send(status, body);
    answered(ex);
}

HostAnswer Dispatcher::keep(Exchange& ex) {
    if (kept_.keep(&ex, std::chrono::steady_clock::now() + settings_.request_timeout, false)) {
        (void)spare_exchange.release();  // KeptRequests owns it now
        return HostAnswer::kept;
    }
    return HostAnswer::answered;
}

bool Dispatcher::route(Exchange& ex, bool pipelined) {
    std::string_view raw = ex.raw_path();
    if (host_routes_ && (!plugin_routes_ || raw.substr(0, 2) == "/.")) {
        switch (host_routes_(*this, ex)) {
            case HostAnswer::answered: return true;
            case HostAnswer::kept: return false;
            case HostAnswer::not_mine: break;
        }
        if (!plugin_routes_) return answer_error(ex, Reason::no_route, "not found");
    }
    std::string& path = ex.path_buffer();
    const NormalisedPath normal = normalise_path(raw, path, settings_.encoded_slashes);
    if (normal.error != PathError::none) {
        std::string message = std::string("invalid request path: ") + describe(normal.error);
        if (normal.error == PathError::encoded_slash) message += " (server.encoded_slashes: refuse)";
        return answer_error(ex, Reason::invalid_path, message);
    }
    std::string_view p(path);
    if (p.substr(0, kApiPrefix.size()) != kApiPrefix) {
        return answer_error(ex, Reason::no_plugin, "not found; plugin routes live under /api/<plugin>/");
    }
    std::string_view rest = p.substr(kApiPrefix.size());
    std::string_view id = rest.substr(0, rest.find('/'));
    const Published* published = enter_plugin(id);
    if (published == nullptr) {
        const auto& disabled = current_snapshot().disabled;
        if (std::find(disabled.begin(), disabled.end(), id) != disabled.end()) {
            return answer_error(ex, Reason::no_plugin,
                                "plugin \"" + std::string(id) + "\" is disabled in the configuration (plugins." +
                                    std::string(id) + ".enabled: false)");
        }
        return answer_error(ex, Reason::no_plugin, "no plugin \"" + std::string(id) + "\" is loaded");
    }
    // From here on every answer leaves the instance (see answered()).
    ex.plugin = published->plugin;
    PluginInstance& plugin = *published->plugin;
    // Both live as long as this thread's snapshot, which only a call of
    // current_snapshot() may move on: none comes before they are used.
    const std::vector<bool>& public_routes = published->public_routes;
    const auth::AccessControl* access = published->access;
    if (plugin.state() != PluginState::running) {
        return answer_error(ex, Reason::plugin_unavailable, "plugin " + plugin.id() + " is not available: " +
                                         (plugin.error().empty() ? to_string(plugin.state()) : plugin.error()));
    }
    ex.set_prefix_length(kApiPrefix.size() + id.size());
    MatchResult match = plugin.routes().match(ex.method(), ex.relative_path(), ex.params());
    if (match.kind != MatchResult::Kind::found && access != nullptr &&
        !authenticate(ex, *access, plugin.id(), access->misses_are_public(plugin.id()))) {
        return true;
    }
    if (match.kind == MatchResult::Kind::not_found) {
        return answer_error(ex, Reason::no_route, "no route for " + std::string(ex.method()) + " " + std::string(ex.relative_path()) +
                                         " in plugin " + plugin.id());
    }
    if (match.kind == MatchResult::Kind::method_not_allowed) {
        return answer_error(ex, Reason::method_not_allowed,
                            "method " + std::string(ex.method()) + " not allowed; allowed: " + match.allow, match.allow);
    }
    if (access != nullptr && !authenticate(ex, *access, plugin.id(), public_routes[match.target])) return true;
    if (normal.escaped) ex.unescape_params();
    const RouteHandler& handler = plugin.handler(match.target);
    const bool streamed_body = (handler.flags & KERBERUS_ROUTE_STREAMED_BODY) != 0;
    if (ex.has_arriving_body() && !streamed_body) {
        // The plugin was reloaded between the head and here, and the new
        // route takes its body whole: it is too late to collect it.
        return answer_error(ex, Reason::plugin_unavailable,
                            "plugin " + plugin.id() + " was reloaded while this request arrived; send it again");
    }
    ex.set_streamed_body_route(streamed_body);
    handler.stats->started();
    ex.set_route(handler.method, handler.pattern, handler.stats);
    kerberus_status status;
    {
        fault_report::Running running(plugin.id(), ex.method(), ex.raw_path(), handler.pattern);
        status = handler.fn(&ex, handler.user_data);
    }
    return after_handler(&ex, status, handler, pipelined);
}

bool Dispatcher::authenticate(Exchange& ex, const auth::AccessControl& access, std::string_view plugin,
                              bool public_route) {
    std::optional<std::string_view> field = ex.header("authorization");
    // A public route checks nothing it is not shown: a caller that sends
    // credentials is identified if they verify, and served either way.
    if (public_route && !field) return true;
    auth::Verdict verdict = access.authenticate(field ? &*field : nullptr, plugin, ex.caller());
    if (verdict.kind == auth::Verdict::Kind::allowed || public_route) return true;
    // RFC 6750 3: the challenge, with the error code when credentials came.
    switch (verdict.kind) {
        case auth::Verdict::Kind::missing:
            answer_error(ex, Reason::unauthenticated, verdict.reason, "Bearer");
            break;
        case auth::Verdict::Kind::invalid:
            answer_error(ex, Reason::unauthenticated, verdict.reason, "Bearer error=\"invalid_token\"");
            break;
        default: answer_error(ex, Reason::forbidden, verdict.reason, "Bearer error=\"insufficient_scope\"");
    }
    return false;
}

bool Dispatcher::after_handler(Exchange* ex, kerberus_status status, const RouteHandler& handler, bool pipelined) {
    if (status == KERBERUS_ASYNC &&
        kept_.keep(ex, std::chrono::steady_clock::now() + settings_.request_timeout, pipelined)) {
        (void)spare_exchange.release();  // KeptRequests owns it now
        return false;
    }
    State expected = State::handling;
    if (!ex->state.compare_exchange_strong(expected, State::responded)) {
        // Answered (for KERBERUS_ASYNC: before it could be kept). Still being
        // sent by another thread: that thread finishes the exchange, and
        // this worker takes a new one for its next request.
        if (expected == State::answering && ex->state.compare_exchange_strong(expected, State::handed_over)) {
            (void)spare_exchange.release();
            return true;
        }
        answered(*ex);  // the answer is out and the handler is done: the normal case
        return true;
    }
    std::string message;
    if (status == KERBERUS_OK && ex->streaming()) {
        message = "handler returned KERBERUS_OK before response_end; the stream was cut off (return KERBERUS_ASYNC "
                  "to go on streaming after the handler)";
    } else if (status == KERBERUS_OK) {
        message = "handler returned without responding";
    } else {
        message = "handler returned " + status_text(status);
    }
    ex->plugin->logger().error("{} {} ({} {}): {}", ex->method(), ex->raw_path(), handler.method, handler.pattern,
                               message);
    ex->send_host_error(Reason::handler_failed, "plugin " + ex->plugin->id() + ": " + message);
    answered(*ex);
    return true;
}

kerberus_status Dispatcher::respond_error(Exchange& ex, int status, std::string_view message) {
    if (!ex.has_content_type()) ex.add_response_header("Content-Type", "application/json");
    return respond(ex, status, error_body(status, message, ex.method(), ex.raw_path()));
}

kerberus_status Dispatcher::respond(Exchange& ex, int status, std::string_view body) {
    if (status < 200 || status > 599) return KERBERUS_ERR_INVALID;
    if (body.size() > kMaxResponseBody) return KERBERUS_ERR_TOO_LARGE;
    if (!ex.stated_length_fits(status, body.size())) return KERBERUS_ERR_INVALID;
    if (ex.streaming()) return KERBERUS_ERR_STATE;  // answered by response_end
    return deliver(ex, status, body);
}

kerberus_status Dispatcher::deliver(Exchange& ex, int status, std::string_view body) {
    State s = ex.state.load(std::memory_order_acquire);
    if (s == State::handling) {
        // Any thread, also while the handler runs (see State).
        if (ex.state.compare_exchange_strong(s, State::answering)) {
            ex.send(status, body);
            State sending = State::answering;
            if (!ex.state.compare_exchange_strong(sending, State::responded)) {
                answered(ex);  // handed over: the handler returned meanwhile
                delete &ex;
            }
            return KERBERUS_OK;
        }
        // Lost a race with the handler's return or another respond().
    }
    if (s == State::responded || s == State::answering || s == State::handed_over) {
        if (ex.plugin) ex.plugin->logger().warn("{} {}: responded twice; the first response stands", ex.method(),
                                                ex.raw_path());
        return KERBERUS_ERR_STATE;
    }
    return kept_.respond_kept(&ex, status, body);
}

kerberus_status Dispatcher::start_stream(Exchange& ex, int status, int64_t content_length,
                                         kerberus_stream_event_fn on_event, void* user_data) {
    // 101 takes up an upgrade the client asked for (RFC 9110 15.2.2).
    const bool switching = status == 101 && ex.upgrade_requested();
    if ((!switching && (status < 200 || status > 599)) || content_length < -1) return KERBERUS_ERR_INVALID;
    if (kerberus_status began = kept_.begin_stream(&ex); began != KERBERUS_OK) return began;
    ex.start_stream(status, content_length, on_event, user_data);
    return KERBERUS_OK;
}

kerberus_status Dispatcher::write_stream(Exchange& ex, std::string_view data) {
    if (!ex.streaming()) return KERBERUS_ERR_STATE;
    switch (ex.state.load(std::memory_order_acquire)) {
        case State::handling:
        case State::kept: return ex.write_stream(data);
        case State::expired: return KERBERUS_ERR_EXPIRED;
        default: return KERBERUS_ERR_STATE;
    }
}

kerberus_status Dispatcher::abort_stream(Exchange& ex) {
    if (!ex.streaming()) return KERBERUS_ERR_STATE;
    ex.cut_stream_at_end();
    return deliver(ex, 0, {});
}

kerberus_status Dispatcher::start_body(Exchange& ex, const kerberus_body_fns& fns, void* user_data) {
    switch (ex.state.load(std::memory_order_acquire)) {
        case State::handling:
        case State::kept: break;
        default: return KERBERUS_ERR_STATE;
    }
    return ex.start_body(fns, user_data);
}

kerberus_status Dispatcher::end_stream(Exchange& ex) {
    if (!ex.streaming()) return KERBERUS_ERR_STATE;
    const bool cut = ex.stream_short();
    kerberus_status delivered = deliver(ex, 0, {});
    return delivered == KERBERUS_OK && cut ? KERBERUS_ERR_INVALID : delivered;
}

}  // namespace kerberus::http
