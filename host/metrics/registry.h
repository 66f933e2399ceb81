// Every metric the daemon keeps while it runs: per-route request counts,
// host answers by reason, and the families plugins define. Entries are
// made at plugin init (never on the request path) and kept for the
// process's life, so a reloaded plugin's counts go on where they were and
// no handle a plugin holds can dangle.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "metrics/exposition.h"
#include "metrics/http_stats.h"
#include "metrics/plugin_metrics.h"

namespace kerberus::metrics {

class Registry {
public:
    // The process's registry.
    static Registry& instance();

    RouteStats& route(const std::string& plugin, const std::string& method, const std::string& pattern);
    // Host answers attributed to `plugin` ("" for none).
    HostErrors& host_errors(const std::string& plugin);

    enum class FamilyResult { ok, invalid, conflict };
    // A plugin's family for `spec`: the one an earlier instance made with
    // the same spec, or a new one. `why` says what was wrong otherwise.
    FamilyResult plugin_family(const std::string& plugin, const kerberus_metric_spec& spec, PluginFamily*& out,
                               std::string& why);

    // Request metrics and plugin families, in the text format.
    void write(TextWriter& out) const;

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<RouteStats>> routes_;
    std::map<std::string, std::unique_ptr<HostErrors>> host_errors_;
    std::map<std::string, std::unique_ptr<PluginFamily>> families_;  // by exposed name
};

}  // namespace kerberus::metrics
