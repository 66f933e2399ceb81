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
#include "ops/plugin_set.h"
#include "ops/signals.h"

namespace kerberus::ops {
namespace {

using std::chrono::milliseconds;
using Instances = std::vector<std::shared_ptr<PluginInstance>>;

void stop_all(const Instances& instances, outbound::Client& outbound, http::KeptRequests* kept) {
    for (auto it = instances.rbegin(); it != instances.rend(); ++it) {
        PluginInstance& plugin = **it;
        // Outbound callbacks run into plugin code: all of them finish
        // (cancelled) while the plugin is still whole, before stop.
        plugin.refuse_new_work();
        outbound.cancel_owner(&plugin);
        plugin.stop();
        // The plugin promised not to touch its kept requests after stop.
        if (kept) kept->forget_plugin(&plugin);
    }
    for (auto it = instances.rbegin(); it != instances.rend(); ++it) (*it)->destroy();
}

// Initialises in id order. A failure is logged and the plugin answers 503;
// a required plugin failing aborts startup.
bool init_all(const Instances& instances, spdlog::logger& log) {
    bool ok = true;
    for (const auto& p : instances) {
        if (p->state() == PluginState::loaded) p->init(api::host_api());
        if (p->state() == PluginState::running) {
            log.info("plugin {} {} started ({} routes under /api/{}/)", p->id(), p->file().version.str(),
                     p->route_count(), p->id());
            continue;
        }
        const char* what = p->has_file() ? "failed to start" : "is not available";
        if (p->settings().required) {
            log.critical("required plugin {} {}: {}", p->id(), what, p->error());
            ok = false;
            break;
        }
        log.error("plugin {} {}: {}; its routes answer 503", p->id(), what, p->error());
    }
    return ok;
}

std::size_t count_running(const Instances& instances) {
    std::size_t n = 0;
    for (const auto& p : instances) n += p->state() == PluginState::running;
    return n;
}

// The main thread's loop while serving: signals, and the watchdog pinged
// only while the daemon answers its own liveness probe.
int wait_for_stop(spdlog::logger& log, const Notifier& notifier, const http::Server& server) {
    auto interval = notifier.watchdog_interval();
    milliseconds tick = interval ? std::chrono::duration_cast<milliseconds>(*interval / 3) : milliseconds(1000);
    tick = std::max(tick, milliseconds(10));
    bool was_healthy = true;
    for (;;) {
        int sig = wait_for_signal(tick);
        if (sig == SIGTERM || sig == SIGINT) return sig;
        if (sig == SIGHUP) log.warn("SIGHUP ignored: restart kerberusd to apply configuration or plugin changes");
        if (!interval) continue;
        bool healthy = liveness_answers(server.host(), server.port(), tick);
        if (healthy) notifier.watchdog();
        if (healthy != was_healthy) {
            if (healthy) log.info("liveness probe answers again; watchdog pings resume");
            else log.error("liveness probe got no answer; watchdog pings stop until it does");
            was_healthy = healthy;
        }
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

int serve(const config::Config& config) {
    auto log = host_logger();
    Notifier notifier;
    Discovery discovery = discover_plugins(config);
    PluginSet set = build_plugin_set(config, discovery, *log);
    const Instances& instances = set.instances;

    outbound::Client outbound({}, log);
    api::set_outbound_client(&outbound);
    if (!init_all(instances, *log)) {
        stop_all(instances, outbound, nullptr);
        return kExitFailure;
    }

    http::Dispatcher dispatcher({config.server.max_request_body, config.server.request_timeout}, log);
    dispatcher.set_plugins(instances);
    http::Server server(config.server, dispatcher);
    try {
        server.start();
    } catch (const std::exception& e) {
        log->critical("{}", e.what());
        stop_all(instances, outbound, nullptr);
        return kExitFailure;
    }
    dispatcher.set_ready(true);
    std::size_t running = count_running(instances);
    log->info("serving on http://{}:{} ({} plugins running, {} failed)", server.host(), server.port(), running,
              instances.size() - running);
    notifier.ready(std::to_string(running) + " plugins running, " + std::to_string(instances.size() - running) +
                   " failed; serving on " + server.host() + ":" + std::to_string(server.port()));

    int sig = wait_for_stop(*log, notifier, server);
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    notifier.stopping(std::string("draining after ") + name);
    log->info("received {}; draining for up to {} ms", name, config.server.shutdown_timeout.count());
    drain(dispatcher, server, config.server.shutdown_timeout, *log);
    server.shutdown();
    dispatcher.kept().close();
    stop_all(instances, outbound, &dispatcher.kept());
    log->info("stopped");
    return kExitOk;
}

}  // namespace kerberus::ops
