// Turning what was discovered and what was configured into the list of
// plugin instances the daemon runs (or --check reports on).
#pragma once

#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "admin/daemon_view.h"
#include "config/config.h"
#include "plugins/discovery.h"
#include "plugins/plugin_instance.h"

namespace kerberus::ops {

struct PluginSet {
    // Enabled plugins, in id order; failed ones included (they answer 503).
    std::vector<std::shared_ptr<PluginInstance>> instances;
    std::vector<std::string> disabled;
};

// Logs every refusal, choice and missing plugin (one line each).
PluginSet build_plugin_set(const config::Config& config, Discovery& discovery, spdlog::logger& log);

// Checks the settings of every enabled plugin whose chosen file declares a
// config schema, and fills in the schema's defaults (config/schema.h).
// Throws config::ConfigError at the first setting that fails.
void check_plugin_settings(config::Config& config, const Discovery& discovery);

// Every plugin file the scan found and what became of it, for the inventory.
std::vector<admin::FileRecord> file_records(const Discovery& discovery, const config::Config& config);

}  // namespace kerberus::ops
