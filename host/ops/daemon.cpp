#include "ops/daemon.h"

#include <algorithm>
#include <csignal>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "admin/admin_surface.h"
#include "admin/daemon_view.h"
#include "admin/events.h"
#include "admin/health_routes.h"
#include "api/host_api.h"
#include "health/health_monitor.h"
#include "http/access_log.h"
#include "http/dispatcher.h"
#include "http/server.h"
#include "outbound/client.h"
#include "ops/logging.h"
#include "ops/notify.h"
#include "ops/self_check.h"
#include "ops/plugin_lifecycle.h"
#include "ops/plugin_set.h"
#include "ops/reload.h"
#include "ops/signals.h"
#include "tls/acceptor.h"

namespace kerberus::ops {
namespace {

using std::chrono::milliseconds;

// Initialises in id order; a required plugin failing aborts startup.
bool init_all(const Instances& instances, spdlog::logger& log) {
    for (const auto& p : instances) {
        if (!start_plugin(*p, log) && p->settings().required) return false;
    }
    return true;
}

std::string status_line(const Instances& instances, const http::Server& server,
                        const admin::ReloadStatus& reload) {
    std::size_t running = count_running(instances);
    std::string line = std::to_string(running) + " plugins running, " +
                       std::to_string(instances.size() - running) + " failed; serving on " + server.host() + ":" +
                       std::to_string(server.port());
    // systemctl status shows this line: a rejected reload must not hide.
    if (!reload.last_ok) line += "; last reload rejected: " + reload.last_message;
    return line;
}

// WATCHDOG=1 only while the daemon answers its own liveness probe, at most
// as often as systemd needs it.
class Watchdog {
public:
    Watchdog(const Notifier& notifier, const http::Server& server, spdlog::logger& log)
        : notifier_(notifier), server_(server), log_(log) {
        if (auto interval = notifier.watchdog_interval()) {
            period_ = std::max(std::chrono::duration_cast<milliseconds>(*interval / 3), milliseconds(10));
        }
    }
    bool enabled() const { return period_.count() > 0; }
    milliseconds period() const { return enabled() ? period_ : milliseconds(1000); }

    void tick() {
        if (!enabled() || std::chrono::steady_clock::now() < next_) return;
        next_ = std::chrono::steady_clock::now() + period_;
        bool healthy = liveness_answers(server_.host(), server_.port(), period_, server_.tls());
        if (healthy) notifier_.watchdog();
        if (healthy != healthy_) {
            if (healthy) log_.info("liveness probe answers again; watchdog pings resume");
            else log_.error("liveness probe got no answer; watchdog pings stop until it does");
            healthy_ = healthy;
        }
    }

private:
    const Notifier& notifier_;
    const http::Server& server_;
    spdlog::logger& log_;
    milliseconds period_{0};
    std::chrono::steady_clock::time_point next_{};
    bool healthy_ = true;
};

// What the main thread looks after while serving.
struct Services {
    http::Dispatcher& dispatcher;
    outbound::Client& outbound;
    JwksFetcher& jwks;
    const http::Server& server;
    const Notifier& notifier;
    admin::DaemonView& view;
    health::HealthMonitor& health;
    admin::AdminSurface& admin;
    tls::Acceptor* tls;  // null: the listener is plain
};

void publish_view(admin::DaemonView& view, const Running& running) {
    view.update([&](admin::DaemonSnapshot& s) {
        s.instances = running.instances;
        s.disabled = running.disabled;
        s.files = running.files_seen;
        s.config = running.config;
        s.stopping.clear();
    });
}

void reload_and_report(Running& running, Services& services, Watchdog& watchdog, spdlog::logger& log) {
    log.info("reloading configuration and plugins");
    services.notifier.reloading();
    ReloadHooks hooks;
    hooks.keep_alive = [&] { watchdog.tick(); };
    hooks.published = [&](const Instances& next, const Instances& retired) {
        // Health calls into retired instances end before they stop.
        services.health.watch(next);
        services.view.update([&](admin::DaemonSnapshot& s) {
            s.instances = next;
            s.stopping = retired;
        });
    };
    ReloadResult result =
        reload(running, services.dispatcher, services.outbound, services.jwks, services.tls, log, hooks);
    auto now = std::chrono::system_clock::now();
    if (result.ok) {
        services.health.set_settings({running.config.health.interval, running.config.health.timeout});
        publish_view(services.view, running);
    }
    services.view.update([&](admin::DaemonSnapshot& s) {
        s.reload.last_attempt = now;
        s.reload.last_ok = result.ok;
        s.reload.last_message = result.message;
        if (result.ok) {
            ++s.reload.successes;
            s.reload.last_success = now;
        } else {
            ++s.reload.rejections;
        }
    });
    admin::Events::instance().record(admin::Event{now, 0, result.ok ? "info" : "error", "kerberusd",
                                                  result.ok ? result.message : "reload rejected: " + result.message});
    services.admin.reload_finished(result.ok, result.message);
    services.notifier.ready(status_line(running.instances, services.server, services.view.snapshot()->reload));
}

// The main thread's loop while serving: signals (SIGHUP reloads) and the
// watchdog.
int serve_until_stopped(Running& running, Services& services, spdlog::logger& log) {
    Watchdog watchdog(services.notifier, services.server, log);
    for (;;) {
        int sig = wait_for_signal(watchdog.period());
        if (sig == SIGTERM || sig == SIGINT) return sig;
        if (sig == SIGHUP) reload_and_report(running, services, watchdog, log);
        watchdog.tick();
    }
}

void drain(http::Dispatcher& dispatcher, http::Server& server, milliseconds deadline, spdlog::logger& log) {
    dispatcher.set_ready(false);
    dispatcher.set_draining();
    server.stop_accepting();
    auto until = std::chrono::steady_clock::now() + deadline;
    while (dispatcher.in_flight() > 0 && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(milliseconds(5));
    }
    if (int64_t left = dispatcher.in_flight(); left > 0) {
        log.warn("{} requests still in flight after server.shutdown_timeout; answering 503 (streamed responses are cut off)", left);
        dispatcher.kept().expire_all("the server is shutting down");
        // Give the workers a moment to put those answers on the wire.
        std::this_thread::sleep_for(milliseconds(50));
    }
}

// The listener's TLS, or null when server.tls is off. Read before anything
// starts: a certificate that does not load is a configuration error.
std::shared_ptr<tls::Acceptor> make_tls(const config::TlsSettings& settings,
                                        const std::shared_ptr<spdlog::logger>& log) {
    if (!settings.enabled()) return nullptr;
    auto context = tls::Context::load(settings);
    log->info("TLS on the listener: {}", context->summary());
    if (context->expired()) {
        log->warn("the TLS certificate in {} has expired: {}", settings.certificate, context->summary());
    }
    return std::make_shared<tls::Acceptor>(std::move(context), log);
}

}  // namespace

int serve(const config::Config& loaded, const std::vector<std::string>& files) {
    auto log = host_logger();
    std::shared_ptr<tls::Acceptor> tls = make_tls(loaded.server.tls, log);
    Notifier notifier;
    admin::DaemonView view;
    view.update([](admin::DaemonSnapshot& s) { s.started_at = std::chrono::system_clock::now(); });
    config::Config config = loaded;
    Discovery discovery = discover_plugins(config);
    check_plugin_settings(config, discovery);
    PluginSet set = build_plugin_set(config, discovery, *log);
    Running running{files, config, std::move(set.instances), std::move(set.disabled), file_records(discovery, config), nullptr};
    publish_view(view, running);

    std::unique_ptr<http::AccessLog> access_log;
    if (config.access_log.enabled) {
        try {
            access_log = std::make_unique<http::AccessLog>(config.access_log, log);
        } catch (const std::exception& e) {
            log->critical("cannot open the access log: {}", e.what());
            return kExitFailure;
        }
    }

    JwksFetcher jwks(log);
    running.access = jwks.access_control(config);
    outbound::Client outbound({}, log);
    // Fetches end before the client they use.
    struct StopFetches {
        JwksFetcher& jwks;
        ~StopFetches() { jwks.stop(); }
    } stop_fetches{jwks};
    jwks.start(outbound);
    api::set_outbound_client(&outbound);
    if (!init_all(running.instances, *log)) {
        stop_plugins(running.instances, outbound, nullptr);
        return kExitFailure;
    }
    health::HealthMonitor health({config.health.interval, config.health.timeout}, log);
    health.watch(running.instances);

    const http::Dispatcher::Settings http_settings{
        config.server.max_request_body, config.server.request_timeout,
        config.server.keep_encoded_slashes ? http::EncodedSlashes::keep : http::EncodedSlashes::refuse,
        config.server.max_header_fields};
    http::Dispatcher dispatcher(http_settings, log);
    dispatcher.set_access_log(access_log.get());
    dispatcher.set_host_routes(admin::health_routes(view));
    dispatcher.publish(running.instances, running.disabled, running.access);
    http::Server server(config.server, dispatcher, log);
    // A proxied request is sent, read and answered on the worker thread
    // that read it.
    server.set_sidecar([&outbound] { return outbound.worker_engine(); });
    server.set_tls(tls);

    admin::AdminSurface surface(view, [] { ::kill(::getpid(), SIGHUP); });
    // An admin reload answers once the reload is done, which may wait
    // server.shutdown_timeout for a retired instance (twice: the old and a
    // failed new one): the admin surface's own deadline allows for that.
    http::Dispatcher::Settings admin_http = http_settings;
    admin_http.request_timeout =
        std::max(http_settings.request_timeout, 3 * config.server.shutdown_timeout + std::chrono::seconds(30));
    http::Dispatcher admin_dispatcher(admin_http, log);
    admin_dispatcher.set_host_routes(surface.routes(config.admin.token), false);
    config::ServerSettings admin_settings = config.server;
    admin_settings.listen_host = config.admin.listen_host;
    admin_settings.listen_port = config.admin.listen_port;
    admin_settings.workers = 1;
    // An operator's client may not be locked out by the public side's rule.
    admin_settings.max_connections_per_client = 0;
    admin_settings.tls = {};  // loopback or a Unix socket: plain
    http::Server admin_server(admin_settings, admin_dispatcher, log, config.admin.unix_path);
    try {
        server.start();
        if (config.admin.enabled) admin_server.start();
    } catch (const std::exception& e) {
        bool admin_failed = server.port() != 0;
        log->critical("{}{}", e.what(), admin_failed ? " (admin.listen; set another, or admin.enabled: false)" : "");
        admin_server.shutdown();
        server.shutdown();
        health.stop_all();
        stop_plugins(running.instances, outbound, nullptr);
        return kExitFailure;
    }
    if (config.admin.enabled) log->info("admin surface on {}", admin_server.url());
    view.update([&](admin::DaemonSnapshot& s) {
        s.starting = false;
        s.public_url = server.url();
        s.admin_url = config.admin.enabled ? admin_server.url() : "";
    });
    dispatcher.set_ready(true);
    admin_dispatcher.set_ready(true);
    std::size_t up = count_running(running.instances);
    log->info("serving on {} ({} plugins running, {} failed)", server.url(), up, running.instances.size() - up);
    notifier.ready(status_line(running.instances, server, view.snapshot()->reload));

    Services services{dispatcher, outbound, jwks, server, notifier, view, health, surface, tls.get()};
    int sig = serve_until_stopped(running, services, *log);
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    notifier.stopping(std::string("draining after ") + name);
    auto deadline = running.config.server.shutdown_timeout;
    log->info("received {}; draining for up to {} ms", name, deadline.count());
    view.update([](admin::DaemonSnapshot& s) { s.draining = true; });
    drain(dispatcher, server, deadline, *log);
    server.shutdown();
    admin_server.shutdown();
    surface.reload_finished(false, "the daemon is shutting down");
    dispatcher.kept().close();
    admin_dispatcher.kept().close();
    health.stop_all();
    stop_plugins(running.instances, outbound, &dispatcher.kept());
    log->info("stopped");
    return kExitOk;
}

}  // namespace kerberus::ops
