// Calls each running plugin's health callback on a timer, on threads of
// its own (never a worker's), and keeps the answer on the instance.
//
// Every plugin with a callback gets one checker thread, so a callback that
// hangs delays only its own plugin; the monitor's thread notices a call
// running past the timeout, counts the plugin unhealthy meanwhile, and logs
// each change once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "plugins/plugin_instance.h"

namespace kerberus::health {

struct Settings {
    std::chrono::milliseconds interval{10'000};
    std::chrono::milliseconds timeout{2'000};
};

class HealthMonitor {
public:
    HealthMonitor(Settings settings, std::shared_ptr<spdlog::logger> log);
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    // Main thread. Checks the running instances among `instances` that
    // have a callback (a first call at once), and stops checking the ones
    // not listed; returns after any call still running on those returned,
    // so they can be stopped.
    void watch(const std::vector<std::shared_ptr<PluginInstance>>& instances);
    // Stops every checker (shutdown).
    void stop_all() { watch({}); }
    void set_settings(Settings settings);

private:
    struct Checker;

    void check_loop(Checker& checker);
    void monitor_loop();
    // The instance's health as of now, counting an overdue call.
    PluginHealth evaluate(Checker& checker, std::chrono::steady_clock::time_point now);

    std::shared_ptr<spdlog::logger> log_;
    std::mutex mutex_;
    std::condition_variable wake_;
    Settings settings_;
    bool stopping_ = false;
    std::map<PluginInstance*, std::unique_ptr<Checker>> checkers_;
    std::thread monitor_;
};

}  // namespace kerberus::health
