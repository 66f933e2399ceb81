#include "ops/plugin_lifecycle.h"

#include "api/host_api.h"

namespace kerberus::ops {

bool start_plugin(PluginInstance& p, spdlog::logger& log, const PluginInstance* replacing) {
    if (p.state() == PluginState::loaded) p.init(api::host_api());
    if (p.state() == PluginState::running) {
        log.info("plugin {} {} started ({} routes under /api/{}/)", p.id(), p.file().version.str(), p.route_count(),
                 p.id());
        return true;
    }
    if (replacing != nullptr) {
        log.error("plugin {}: the new instance{} failed to start: {}; version {} keeps serving", p.id(),
                  p.has_file() ? " (version " + p.file().version.str() + ")" : std::string(), p.error(),
                  replacing->file().version.str());
        return false;
    }
    const char* what = p.has_file() ? "failed to start" : "is not available";
    if (p.settings().required) {
        log.critical("required plugin {} {}: {}", p.id(), what, p.error());
    } else {
        log.error("plugin {} {}: {}; its routes answer 503", p.id(), what, p.error());
    }
    return false;
}

void stop_plugins(const Instances& instances, outbound::Client& outbound, http::KeptRequests* kept) {
    for (auto it = instances.rbegin(); it != instances.rend(); ++it) {
        PluginInstance& plugin = **it;
        plugin.refuse_new_work();
        outbound.cancel_owner(&plugin);
        plugin.stop();
        // The plugin promised not to touch its kept requests after stop.
        if (kept) kept->forget_plugin(&plugin);
    }
    for (auto it = instances.rbegin(); it != instances.rend(); ++it) (*it)->destroy();
}

std::size_t count_running(const Instances& instances) {
    std::size_t n = 0;
    for (const auto& p : instances) n += p->state() == PluginState::running;
    return n;
}

}  // namespace kerberus::ops
