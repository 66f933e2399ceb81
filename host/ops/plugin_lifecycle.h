// Starting and stopping plugin instances, the same way at startup, at
// reload and at shutdown.
#pragma once

#include <memory>
#include <vector>

#include <spdlog/logger.h>

#include "http/kept_requests.h"
#include "outbound/client.h"
#include "plugins/plugin_instance.h"

namespace kerberus::ops {

using Instances = std::vector<std::shared_ptr<PluginInstance>>;

// Runs the plugin's init (if it has a file and was not initialised) and
// logs one line: started, or failed with the reason — and, when `replacing`
// (the instance that keeps serving if this one fails) is given, that it
// keeps serving. True if running.
bool start_plugin(PluginInstance& plugin, spdlog::logger& log, const PluginInstance* replacing = nullptr);

// Stops, then destroys, in reverse order. Before each stop, the plugin's
// outbound requests are cancelled (their callbacks run while the plugin is
// whole); after it, whatever it still keeps is answered 503 and freed.
void stop_plugins(const Instances& instances, outbound::Client& outbound, http::KeptRequests* kept);

std::size_t count_running(const Instances& instances);

}  // namespace kerberus::ops
