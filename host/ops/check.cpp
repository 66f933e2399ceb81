#include <cstdio>
#include <string>
#include <vector>

#include "ops/daemon.h"
#include "ops/logging.h"
#include "plugins/discovery.h"

namespace kerberus::ops {
namespace {

struct Row {
    std::string id, version, abi, state, file;
};

void print_table(const std::vector<Row>& rows) {
    std::vector<Row> all{{"ID", "VERSION", "ABI", "STATE", "FILE"}};
    all.insert(all.end(), rows.begin(), rows.end());
    std::size_t w[4] = {0, 0, 0, 0};
    for (const auto& r : all) {
        w[0] = std::max(w[0], r.id.size());
        w[1] = std::max(w[1], r.version.size());
        w[2] = std::max(w[2], r.abi.size());
        w[3] = std::max(w[3], r.state.size());
    }
    for (const auto& r : all) {
        std::printf("%-*s  %-*s  %-*s  %-*s  %s\n", int(w[0]), r.id.c_str(), int(w[1]), r.version.c_str(), int(w[2]),
                    r.abi.c_str(), int(w[3]), r.state.c_str(), r.file.c_str());
    }
}

Row row_for(const PluginFile& f, std::string state) {
    return Row{f.id, f.version.str(), f.abi(), std::move(state), f.path.string()};
}

}  // namespace

int check(const config::Config& config) {
    auto log = host_logger();
    Discovery discovery = discover_plugins(config);
    for (const auto& w : discovery.warnings) log->warn("{}", w);
    bool ok = true;
    std::vector<Row> rows;
    for (const auto& [id, choice] : discovery.plugins) {
        auto it = config.plugins.find(id);
        bool enabled = it == config.plugins.end() || it->second.enabled;
        if (choice.chosen) rows.push_back(row_for(*choice.chosen, enabled ? "ok" : "disabled"));
        else {
            rows.push_back(Row{id, "-", "-", "unsatisfied", choice.note});
            if (enabled && it != config.plugins.end() && it->second.required) ok = false;
        }
        for (const auto& s : choice.skipped) rows.push_back(row_for(s, "skipped"));
    }
    for (const auto& [id, settings] : config.plugins) {
        if (discovery.plugins.count(id) || !settings.enabled) continue;
        rows.push_back(Row{id, "-", "-", settings.required ? "missing (required)" : "missing", "-"});
        if (settings.required) ok = false;
    }
    for (const auto& r : discovery.refused) {
        rows.push_back(Row{"-", "-", "-", "refused", r.path.string()});
        ok = false;
    }
    print_table(rows);
    for (const auto& r : discovery.refused) std::printf("refused %s: %s\n", r.path.string().c_str(), r.reason.c_str());
    std::printf("configuration %s: %s\n", ok ? "ok" : "has problems", ok ? "every plugin file loads" : "see above");
    std::fflush(stdout);
    return ok ? kExitOk : kExitFailure;
}

}  // namespace kerberus::ops
