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

#include "admin/daemon_view.h"
#include "config/config.h"
#include "http/dispatcher.h"
#include "ops/jwks_fetcher.h"
#include "ops/plugin_lifecycle.h"
#include "outbound/client.h"
#include "tls/acceptor.h"

namespace kerberus::ops {

// What the daemon serves right now.
struct Running {
    std::vector<std::string> files;
    config::Config config;
    Instances instances;  // id order
    std::vector<std::string> disabled;
    std::vector<admin::FileRecord> files_seen;
    std::shared_ptr<const auth::AccessControl> access;  // from config.auth and plugins.<id>.auth
};

struct ReloadHooks {
    // Every few milliseconds while retired plugins finish their requests
    // (the watchdog keeps being fed).
    std::function<void()> keep_alive;
    // Right after the new set is published, before the retired instances
    // drain: readers of the daemon's state see them as stopping.
    std::function<void(const Instances& next, const Instances& retired)> published;
};

struct ReloadResult {
    bool ok = false;       // false: the configuration did not load; nothing changed
    std::string message;   // the summary, or why the configuration was rejected
};

// Leaves `running` as it was when the configuration cannot be loaded (a
// TLS certificate or key that does not load included); plugin failures do
// not fail a reload. `tls` (null when the listener is plain) gets the
// certificate and key read again, for the connections accepted from then on.
ReloadResult reload(Running& running, http::Dispatcher& dispatcher, outbound::Client& outbound, JwksFetcher& jwks,
                    tls::Acceptor* tls, spdlog::logger& log, const ReloadHooks& hooks);

}  // namespace kerberus::ops
