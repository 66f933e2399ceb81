#include "health/health_monitor.h"

#include "common/fault_report.h"
#include "common/status_text.h"

namespace kerberus::health {
namespace {

using Clock = std::chrono::steady_clock;

// How often the monitor looks for overdue calls.
constexpr auto kMonitorTick = std::chrono::milliseconds(100);

std::string seconds_text(std::chrono::milliseconds d) {
    double s = static_cast<double>(d.count()) / 1000.0;
    char text[32];
    std::snprintf(text, sizeof text, "%g s", s);
    return text;
}

}  // namespace

struct HealthMonitor::Checker {
    std::shared_ptr<PluginInstance> plugin;
    std::thread thread;
    bool stop = false;                // under mutex_
    bool calling = false;             // under mutex_
    Clock::time_point call_started;   // under mutex_
    PluginHealth last;                // under mutex_: the last finished call
    PluginHealth::Status logged = PluginHealth::Status::unknown;  // monitor thread only
};

HealthMonitor::HealthMonitor(Settings settings, std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)), settings_(settings), monitor_([this] { monitor_loop(); }) {}

HealthMonitor::~HealthMonitor() {
    stop_all();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    monitor_.join();
}

void HealthMonitor::set_settings(Settings settings) {
    std::lock_guard lock(mutex_);
    settings_ = settings;
}

void HealthMonitor::watch(const std::vector<std::shared_ptr<PluginInstance>>& instances) {
    std::vector<std::unique_ptr<Checker>> ended;
    {
        std::lock_guard lock(mutex_);
        std::map<PluginInstance*, bool> wanted;
        for (const auto& p : instances) {
            if (p->state() == PluginState::running && p->has_health_check()) wanted[p.get()] = true;
        }
        for (auto it = checkers_.begin(); it != checkers_.end();) {
            if (wanted.count(it->first)) {
                ++it;
            } else {
                it->second->stop = true;
                ended.push_back(std::move(it->second));
                it = checkers_.erase(it);
            }
        }
        for (const auto& p : instances) {
            if (!wanted.count(p.get()) || checkers_.count(p.get())) continue;
            auto checker = std::make_unique<Checker>();
            checker->plugin = p;
            Checker& c = *checker;
            checkers_.emplace(p.get(), std::move(checker));
            c.thread = std::thread([this, &c] { check_loop(c); });
        }
    }
    wake_.notify_all();
    for (auto& c : ended) c->thread.join();
}

void HealthMonitor::check_loop(Checker& c) {
    fault_report::prepare_thread();
    std::unique_lock lock(mutex_);
    while (!c.stop) {
        c.calling = true;
        c.call_started = Clock::now();
        lock.unlock();
        std::string message;
        kerberus_status status = c.plugin->call_health(message);
        PluginHealth result;
        result.status = status == KERBERUS_OK ? PluginHealth::Status::healthy : PluginHealth::Status::unhealthy;
        if (status != KERBERUS_OK && message.empty()) {
            message = "health check returned " + status_text(status) + " without a message (set_error)";
        }
        result.message = std::move(message);
        result.checked_at = std::chrono::system_clock::now();
        lock.lock();
        c.calling = false;
        c.last = std::move(result);
        wake_.notify_all();  // the monitor publishes it at once
        wake_.wait_for(lock, settings_.interval, [&] { return c.stop; });
    }
}

PluginHealth HealthMonitor::evaluate(Checker& c, Clock::time_point now) {
    if (c.calling && now - c.call_started > settings_.timeout) {
        PluginHealth overdue;
        overdue.status = PluginHealth::Status::unhealthy;
        overdue.message = "the health check has not returned within health.timeout (" +
                          seconds_text(settings_.timeout) + ")";
        overdue.checked_at = std::chrono::system_clock::now();
        return overdue;
    }
    return c.last;
}

void HealthMonitor::monitor_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto now = Clock::now();
        for (auto& [raw, c] : checkers_) {
            PluginHealth health = evaluate(*c, now);
            if (health.status != c->logged && health.status != PluginHealth::Status::unknown) {
                const std::string& id = c->plugin->id();
                if (health.status == PluginHealth::Status::unhealthy) {
                    log_->warn("plugin {} is unhealthy: {}", id, health.message);
                } else if (c->logged == PluginHealth::Status::unhealthy) {
                    log_->info("plugin {} is healthy again", id);
                }
                c->logged = health.status;
            }
            c->plugin->set_health(std::move(health));
        }
        wake_.wait_for(lock, kMonitorTick);
    }
}

}  // namespace kerberus::health
