// SIGHUP: re-read every config file and rescan the plugin directories, then
// switch in one step. New plugins start, changed ones (another file, other
// settings) are replaced by a fresh instance, removed ones stop; requests
// already inside an old instance finish on it. Nothing running is touched
// until the new configuration is known to be valid.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "config/config.h"
#include "http/dispatcher.h"
#include "ops/plugin_lifecycle.h"
#include "outbound/client.h"

namespace kerberus::ops {

// What the daemon serves right now.
struct Running {
    std::vector<std::string> files;
    config::Config config;
    Instances instances;  // id order
};

// Returns false (and leaves `running` as it was) when the configuration
// cannot be loaded; plugin failures do not fail a reload.
// `keep_alive` runs every few milliseconds while the reload waits for
// retired plugins to finish their requests (the watchdog keeps being fed).
bool reload(Running& running, http::Dispatcher& dispatcher, outbound::Client& outbound, spdlog::logger& log,
            const std::function<void()>& keep_alive);

}  // namespace kerberus::ops
