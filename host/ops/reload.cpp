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
    std::size_t started = 0, replaced = 0, kept = 0, stopped = 0, failed = 0;
};

std::shared_ptr<PluginInstance> find(const Instances& instances, const std::string& id) {
    for (const auto& p : instances) {
        if (p->id() == id) return p;
    }
    return nullptr;
}

bool serving(const std::shared_ptr<PluginInstance>& p) { return p && p->state() == PluginState::running; }

// Decides, plugin by plugin, what serves after the reload.
Outcome plan(const Instances& current, Instances candidates, spdlog::logger& log) {
    Outcome out;
    for (auto& fresh : candidates) {
        auto old = find(current, fresh->id());
        if (serving(old) && fresh->has_file() && old->same_as(fresh->file(), fresh->settings())) {
            old->logger().set_level(fresh->logger().level());
            out.next.push_back(old);
            ++out.kept;
            continue;
        }
        if (start_plugin(*fresh, log)) {
            out.next.push_back(fresh);
            if (old) {
                out.retired.push_back(old);
                ++out.replaced;
            } else {
                ++out.started;
            }
            continue;
        }
        if (serving(old)) {
            log.error("plugin {}: keeping version {} serving after the reload failed to start its replacement",
                      old->id(), old->file().version.str());
            fresh->destroy();
            out.next.push_back(old);
            ++out.failed;
            continue;
        }
        out.next.push_back(fresh);
        if (old) out.retired.push_back(old);
        ++out.failed;
    }
    for (const auto& old : current) {
        if (!find(out.next, old->id())) {
            log.info("plugin {} stops: no longer provided or enabled", old->id());
            out.retired.push_back(old);
            ++out.stopped;
        }
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

void warn_about_restart_only_changes(const config::ServerSettings& a, const config::ServerSettings& b,
                                     spdlog::logger& log) {
    if (a.listen_host != b.listen_host || a.listen_port != b.listen_port || a.workers != b.workers ||
        a.max_request_body != b.max_request_body || a.request_timeout != b.request_timeout ||
        a.header_timeout != b.header_timeout) {
        log.warn("server.* settings changed; they take effect when kerberusd restarts");
    }
}

}  // namespace

bool reload(Running& running, http::Dispatcher& dispatcher, outbound::Client& outbound, spdlog::logger& log,
            const std::function<void()>& keep_alive) {
    config::Config config;
    try {
        config = config::load(running.files);
    } catch (const std::exception& e) {
        log.error("reload failed, keeping the running configuration: {}", e.what());
        return false;
    }
    set_host_level(config.log.level);
    warn_about_restart_only_changes(running.config.server, config.server, log);

    Discovery discovery = discover_plugins(config);
    PluginSet candidates = build_plugin_set(config, discovery, log);
    Outcome out = plan(running.instances, std::move(candidates.instances), log);
    std::sort(out.next.begin(), out.next.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });

    dispatcher.publish(out.next);
    drain(out.retired, config.server.shutdown_timeout, log, keep_alive);
    stop_plugins(out.retired, outbound, &dispatcher.kept());

    // shutdown_timeout is read at shutdown; the rest of server.* needs a restart.
    running.config.log = config.log;
    running.config.plugins = config.plugins;
    running.config.plugin_directories = config.plugin_directories;
    running.config.server.shutdown_timeout = config.server.shutdown_timeout;
    running.instances = std::move(out.next);
    log.info("reloaded: {} plugins running ({} started, {} replaced, {} unchanged, {} stopped, {} failed)",
             count_running(running.instances), out.started, out.replaced, out.kept, out.stopped, out.failed);
    return true;
}

}  // namespace kerberus::ops
