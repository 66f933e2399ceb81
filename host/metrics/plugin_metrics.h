// Metrics plugins define through the host table (kerberus_metric_spec):
// families named kerberus_plugin_<id>_<name> with a plugin="<id>" label the
// plugin cannot set, series created on first use and never freed.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kerberus/plugin.h"
#include "metrics/cells.h"
#include "metrics/exposition.h"

struct kerberus_metric_family {};
struct kerberus_metric {};

namespace kerberus::metrics {

class PluginFamily;

class PluginSeries : public kerberus_metric {
public:
    PluginSeries(const PluginFamily& family, std::vector<std::string> values);
    static PluginSeries& from(kerberus_metric* m) { return *static_cast<PluginSeries*>(m); }

    const PluginFamily& family;
    const std::vector<std::string> values;
    ValueCell value;                            // counters and gauges
    std::unique_ptr<ValueHistogram> histogram;  // histograms
};

class PluginFamily : public kerberus_metric_family {
public:
    static constexpr std::size_t kMaxSeries = 1000;

    PluginFamily(std::string plugin, std::string name, int type, std::string help, std::vector<std::string> labels,
                 std::vector<double> bounds);
    static PluginFamily& from(kerberus_metric_family* f) { return *static_cast<PluginFamily*>(f); }

    // Same spec as an earlier instance of the plugin gave.
    bool same(int type, std::string_view help, const std::vector<std::string>& labels,
              const std::vector<double>& bounds) const;
    // The series for these values, made on first use; null past kMaxSeries.
    PluginSeries* series(std::vector<std::string> values);

    void write(TextWriter& out) const;

    const std::string plugin;
    const std::string name;  // as exposed: kerberus_plugin_<id>_<name>
    const int type;
    const std::string help;
    const std::vector<std::string> labels;
    const std::vector<double> bounds;

private:
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, PluginSeries*> index_;
    std::deque<PluginSeries> series_;  // stable addresses
};

// Checks a spec against plugin.h's rules; empty when it holds, else why not.
// Fills the normalised fields on success.
std::string check_spec(const kerberus_metric_spec& spec, std::vector<std::string>& labels,
                       std::vector<double>& bounds);
// kerberus_plugin_<id>_<name>, dashes in the id as underscores.
std::string exposed_name(std::string_view plugin, std::string_view name);

}  // namespace kerberus::metrics
