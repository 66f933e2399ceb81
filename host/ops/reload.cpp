#include "ops/reload.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "ops/logging.h"
#include "ops/plugin_set.h"
#include "plugins/discovery.h"

namespace kerberus::ops {
namespace {

using Clock = std::chrono::steady_clock;

struct Outcome {
    Instances next;
    Instances retired;
    std::size_t started = 0, replaced = 0, kept = 0, stopped = 0, failed = 0, replacement_failed = 0;
};

std::shared_ptr<PluginInstance> find(const Instances& instances, const std::string& id) {
    for (const auto& p : instances) {
        if (p->id() == id) return p;
    }
    return nullptr;
}

bool serving(const std::shared_ptr<PluginInstance>& p) { return p && p->state() == PluginState::running; }

// A pin names the only bytes that may serve as the plugin: a running
// instance whose digest it does not name stops rather than keep serving.
bool allowed_by_pin(const PluginInstance& p, const config::PluginSettings& settings) {
    return !settings.sha256 || (p.has_file() && p.file().copy->sha256() == *settings.sha256);
}

// Decides, plugin by plugin, what serves after the reload.
Outcome plan(const Instances& current, Instances candidates, const std::vector<std::string>& disabled,
             const Discovery& discovery, spdlog::logger& log) {
    Outcome out;
    for (auto& fresh : candidates) {
        auto old = find(current, fresh->id());
        if (serving(old) && fresh->has_file() && old->same_as(fresh->file(), fresh->settings())) {
            old->logger().set_level(fresh->logger().level());
            out.next.push_back(old);
            ++out.kept;
            continue;
        }
        // A failed replacement leaves the running version serving: that is
        // the one story to tell, once.
        const PluginInstance* keeps_serving =
            serving(old) && allowed_by_pin(*old, fresh->settings()) ? old.get() : nullptr;
        if (start_plugin(*fresh, log, keeps_serving)) {
            out.next.push_back(fresh);
            if (old) {
                out.retired.push_back(old);
                ++out.replaced;
            } else {
                ++out.started;
            }
            continue;
        }
        if (keeps_serving) {
            fresh->destroy();
            out.next.push_back(old);
            ++out.replacement_failed;
            continue;
        }
        out.next.push_back(fresh);
        if (old) out.retired.push_back(old);
        ++out.failed;
    }
    for (const auto& old : current) {
        if (find(out.next, old->id())) continue;
        // Its file is still there but refused now (plugin_trust): the
        // running copy was checked when it loaded and cannot change, so it
        // keeps serving, as after any failed replacement.
        const bool disabled_now = std::find(disabled.begin(), disabled.end(), old->id()) != disabled.end();
        if (std::optional<std::string> refusal = refusal_of(discovery, old->id());
            refusal && serving(old) && !disabled_now) {
            log.warn("plugin {} keeps its running version: {}", old->id(), *refusal);
            out.next.push_back(old);
            ++out.replacement_failed;
            continue;
        }
        log.info("plugin {} stops: no longer provided or enabled", old->id());
        out.retired.push_back(old);
        ++out.stopped;
    }
    return out;
}

// Waits until nothing is inside the retired instances any more; requests
// still kept past the deadline are answered 503 when the plugin stops.
void drain(const Instances& retired, std::chrono::milliseconds deadline, spdlog::logger& log,
           const std::function<void()>& keep_alive) {
    for (const auto& p : retired) p->retire();
    auto until = Clock::now() + deadline;
    auto busy = [&] {
        return std::any_of(retired.begin(), retired.end(), [](const auto& p) { return p->in_flight() > 0; });
    };
    while (busy() && Clock::now() < until) {
        keep_alive();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (const auto& p : retired) {
        if (p->in_flight() > 0) {
            log.warn("plugin {} still has {} requests in flight after server.shutdown_timeout; stopping it anyway",
                     p->id(), p->in_flight());
        }
    }
}

std::string ms(config::Milliseconds d) { return std::to_string(d.count()) + "ms"; }

// Settings a reload cannot apply to what is already listening or running.
void warn_about_restart_only_changes(const config::Config& a, const config::Config& b, spdlog::logger& log) {
    std::vector<std::string> changed;
    auto note = [&](bool differs, const char* key, const std::string& from, const std::string& to) {
        if (!differs) return;
        changed.push_back(std::string(key) + (from.empty() && to.empty() ? "" : " (" + from + " -> " + to + ")"));
    };
    const auto &s = a.server, &t = b.server;
    auto listen = [](const std::string& host, uint16_t port) { return host + ":" + std::to_string(port); };
    note(s.listen_host != t.listen_host || s.listen_port != t.listen_port, "server.listen",
         listen(s.listen_host, s.listen_port), listen(t.listen_host, t.listen_port));
    note(s.workers != t.workers, "server.workers", std::to_string(s.workers), std::to_string(t.workers));
    note(s.max_request_body != t.max_request_body, "server.max_request_body", std::to_string(s.max_request_body),
         std::to_string(t.max_request_body));
    note(s.request_timeout != t.request_timeout, "server.request_timeout", ms(s.request_timeout), ms(t.request_timeout));
    note(s.header_timeout != t.header_timeout, "server.header_timeout", ms(s.header_timeout), ms(t.header_timeout));
    note(s.idle_timeout != t.idle_timeout, "server.idle_timeout", ms(s.idle_timeout), ms(t.idle_timeout));
    note(s.body_timeout != t.body_timeout, "server.body_timeout", ms(s.body_timeout), ms(t.body_timeout));
    auto count = [](std::size_t n) { return std::to_string(n); };
    note(s.max_connections != t.max_connections, "server.max_connections", count(s.max_connections),
         count(t.max_connections));
    note(s.max_connections_per_client != t.max_connections_per_client, "server.max_connections_per_client",
         count(s.max_connections_per_client), count(t.max_connections_per_client));
    note(s.max_header_fields != t.max_header_fields, "server.max_header_fields", count(s.max_header_fields),
         count(t.max_header_fields));
    auto slashes = [](bool keep) { return std::string(keep ? "keep" : "refuse"); };
    note(s.keep_encoded_slashes != t.keep_encoded_slashes, "server.encoded_slashes", slashes(s.keep_encoded_slashes),
         slashes(t.keep_encoded_slashes));
    const auto &x = a.admin, &y = b.admin;
    note(x.enabled != y.enabled, "admin.enabled", x.enabled ? "true" : "false", y.enabled ? "true" : "false");
    auto admin_listen = [&](const config::AdminSettings& v) {
        return v.unix_path.empty() ? listen(v.listen_host, v.listen_port) : "unix:" + v.unix_path;
    };
    note(admin_listen(x) != admin_listen(y), "admin.listen", admin_listen(x), admin_listen(y));
    note(x.token != y.token, "admin.token", "", "");  // secrets are not shown
    // The listener was made plain or TLS; its files, though, are read again.
    auto tls = [](const config::TlsSettings& v) { return std::string(v.enabled() ? "on" : "off"); };
    note(s.tls.enabled() != t.tls.enabled(), "server.tls", tls(s.tls), tls(t.tls));
    const auto &l = a.access_log, &m = b.access_log;
    note(l.enabled != m.enabled || l.format != m.format || l.path != m.path, "access_log", "", "");
    if (changed.empty()) return;
    std::string list;
    for (const auto& c : changed) list += (list.empty() ? "" : ", ") + c;
    log.warn("these settings changed but take effect only when kerberusd restarts: {}", list);
}

}  // namespace

ReloadResult reload(Running& running, http::Dispatcher& dispatcher, outbound::Client& outbound, JwksFetcher& jwks,
                    tls::Acceptor* tls, spdlog::logger& log, const ReloadHooks& hooks) {
    config::Config config;
    Discovery discovery;
    std::shared_ptr<const auth::AccessControl> access;
    std::shared_ptr<const tls::Context> tls_context;
    try {
        config = config::load(running.files);
        discovery = discover_plugins(config);
        check_plugin_settings(config, discovery);
        access = jwks.access_control(config);
        // Renewed files are read on every reload, changed paths or not.
        if (tls && config.server.tls.enabled()) tls_context = tls::Context::load(config.server.tls);
    } catch (const std::exception& e) {
        log.error("reload failed, keeping the running configuration: {}", e.what());
        return ReloadResult{false, e.what()};
    }
    set_host_level(config.log.level);
    warn_about_restart_only_changes(running.config, config, log);

    PluginSet candidates = build_plugin_set(config, discovery, log);
    Outcome out = plan(running.instances, std::move(candidates.instances), candidates.disabled, discovery, log);
    std::sort(out.next.begin(), out.next.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });

    for (const auto& set : access->key_sets()) set->refresh(/*stale_only=*/true);
    if (tls_context) {
        // Connections already open keep the context they began with.
        log.info("TLS: new connections use {}", tls_context->summary());
        if (tls_context->expired()) {
            log.warn("the TLS certificate in {} has expired: {}", config.server.tls.certificate, tls_context->summary());
        }
        tls->replace(tls_context);
        running.config.server.tls = config.server.tls;
    }
    dispatcher.publish(out.next, candidates.disabled, access);
    if (hooks.published) hooks.published(out.next, out.retired);
    drain(out.retired, config.server.shutdown_timeout, log, hooks.keep_alive);
    stop_plugins(out.retired, outbound, &dispatcher.kept());

    // shutdown_timeout is read at shutdown; the rest of server.* needs a restart.
    running.config.log = config.log;
    running.config.plugins = config.plugins;
    running.config.plugin_directories = config.plugin_directories;
    running.config.server.shutdown_timeout = config.server.shutdown_timeout;
    running.config.health = config.health;
    running.config.auth = config.auth;
    running.access = std::move(access);
    running.instances = std::move(out.next);
    running.disabled = std::move(candidates.disabled);
    running.files_seen = file_records(discovery, config);
    std::string summary = "reloaded: " + std::to_string(count_running(running.instances)) + " plugins running (" +
                          std::to_string(out.started) + " started, " + std::to_string(out.replaced) + " replaced, " +
                          std::to_string(out.kept) + " unchanged, " + std::to_string(out.stopped) + " stopped, " +
                          std::to_string(out.failed) + " failed" +
                          (out.replacement_failed ? ", " + std::to_string(out.replacement_failed) +
                                                        " kept their running version after the new one failed"
                                                  : std::string()) +
                          ")";
    log.info("{}", summary);
    return ReloadResult{true, summary};
}

}  // namespace kerberus::ops
