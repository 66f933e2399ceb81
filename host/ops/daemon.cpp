#include "ops/daemon.h"

#include <algorithm>
#include <csignal>
#include <thread>

#include "api/host_api.h"
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

std::string status_line(const Instances& instances, const http::Server& server) {
    std::size_t running = count_running(instances);
    return std::to_string(running) + " plugins running, " + std::to_string(instances.size() - running) +
           " failed; serving on " + server.host() + ":" + std::to_string(server.port());
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
        bool healthy = liveness_answers(server_.host(), server_.port(), period_);
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

// The main thread's loop while serving: signals (SIGHUP reloads) and the
// watchdog.
int serve_until_stopped(Running& running, http::Dispatcher& dispatcher, outbound::Client& outbound,
                        const http::Server& server, const Notifier& notifier, spdlog::logger& log) {
    Watchdog watchdog(notifier, server, log);
    for (;;) {
        int sig = wait_for_signal(watchdog.period());
        if (sig == SIGTERM || sig == SIGINT) return sig;
        if (sig == SIGHUP) {
            log.info("received SIGHUP; reloading configuration and plugins");
            notifier.reloading();
            reload(running, dispatcher, outbound, log, [&] { watchdog.tick(); });
            notifier.ready(status_line(running.instances, server));
        }
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
        log.warn("{} requests still in flight after server.shutdown_timeout; answering 503", left);
        dispatcher.kept().expire_all("the server is shutting down");
        // Give the workers a moment to put those answers on the wire.
        std::this_thread::sleep_for(milliseconds(50));
    }
}

}  // namespace

int serve(const config::Config& config, const std::vector<std::string>& files) {
    auto log = host_logger();
    Notifier notifier;
    Discovery discovery = discover_plugins(config);
    Running running{files, config, build_plugin_set(config, discovery, *log).instances};

    outbound::Client outbound({}, log);
    api::set_outbound_client(&outbound);
    if (!init_all(running.instances, *log)) {
        stop_plugins(running.instances, outbound, nullptr);
        return kExitFailure;
    }

    http::Dispatcher dispatcher({config.server.max_request_body, config.server.request_timeout}, log);
    dispatcher.publish(running.instances);
    http::Server server(config.server, dispatcher, log);
    try {
        server.start();
    } catch (const std::exception& e) {
        log->critical("{}", e.what());
        stop_plugins(running.instances, outbound, nullptr);
        return kExitFailure;
    }
    dispatcher.set_ready(true);
    std::size_t up = count_running(running.instances);
    log->info("serving on http://{}:{} ({} plugins running, {} failed)", server.host(), server.port(), up,
              running.instances.size() - up);
    notifier.ready(status_line(running.instances, server));

    int sig = serve_until_stopped(running, dispatcher, outbound, server, notifier, *log);
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    notifier.stopping(std::string("draining after ") + name);
    auto deadline = running.config.server.shutdown_timeout;
    log->info("received {}; draining for up to {} ms", name, deadline.count());
    drain(dispatcher, server, deadline, *log);
    server.shutdown();
    dispatcher.kept().close();
    stop_plugins(running.instances, outbound, &dispatcher.kept());
    log->info("stopped");
    return kExitOk;
}

}  // namespace kerberus::ops
