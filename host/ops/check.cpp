#include <cstdio>
#include <string>
#include <vector>

#include "ops/daemon.h"
#include "ops/jwks_fetcher.h"
#include "ops/logging.h"
#include "ops/plugin_set.h"
#include "plugins/discovery.h"
#include "tls/context.h"

namespace kerberus::ops {
namespace {

struct Row {
    std::string id, version, abi, state, settings, file, description;
};

void print_table(const std::vector<Row>& rows) {
    std::vector<Row> all{{"ID", "VERSION", "ABI", "STATE", "SETTINGS", "FILE", "DESCRIPTION"}};
    all.insert(all.end(), rows.begin(), rows.end());
    std::size_t w[6] = {0, 0, 0, 0, 0, 0};
    for (const auto& r : all) {
        const std::string* cells[6] = {&r.id, &r.version, &r.abi, &r.state, &r.settings, &r.file};
        for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], cells[i]->size());
    }
    for (const auto& r : all) {
        std::printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", int(w[0]), r.id.c_str(), int(w[1]), r.version.c_str(),
                    int(w[2]), r.abi.c_str(), int(w[3]), r.state.c_str(), int(w[4]), r.settings.c_str(), int(w[5]),
                    r.file.c_str(), r.description.c_str());
    }
}

// SETTINGS: "checked" when the plugin declares a config schema (and the
// settings fit it: otherwise --check already stopped with the error).
Row row_for(const PluginFile& f, std::string state) {
    return Row{f.id,        f.version.str(), f.abi(), std::move(state), f.config_schema.empty() ? "none" : "checked",
               f.path.string(), f.description};
}

}  // namespace

int check(const config::Config& config) {
    auto log = host_logger();
    Discovery discovery = discover_plugins(config);
    for (const auto& w : discovery.warnings) log->warn("{}", w);
    config::Config checked = config;
    check_plugin_settings(checked, discovery);
    JwksFetcher unstarted(log);  // builds the auth settings to check them; fetches nothing
    (void)unstarted.access_control(checked);
    // The certificate and key are read as serving would read them.
    if (config.server.tls.enabled()) (void)tls::Context::load(config.server.tls);
    bool ok = true;
    std::vector<Row> rows;
    for (const auto& [id, choice] : discovery.plugins) {
        auto it = config.plugins.find(id);
        bool enabled = it == config.plugins.end() || it->second.enabled;
        if (choice.chosen) {
            rows.push_back(row_for(*choice.chosen, enabled ? "ok" : "disabled"));
        } else {
            rows.push_back(Row{id, "-", "-", "unsatisfied", "-", choice.note, ""});
            if (enabled && it != config.plugins.end() && it->second.required) ok = false;
        }
        for (const auto& s : choice.skipped) rows.push_back(row_for(s, "skipped"));
    }
    for (const auto& d : discovery.duplicates) rows.push_back(row_for(d.file, "duplicate"));
    for (const auto& [id, settings] : config.plugins) {
        // A plugin whose file was refused shows in the refused file's row.
        if (discovery.plugins.count(id) || !settings.enabled || refusal_of(discovery, id)) continue;
        rows.push_back(Row{id, "-", "-", settings.required ? "missing (required)" : "missing", "-", "-", ""});
        if (settings.required) ok = false;
    }
    for (const auto& r : discovery.refused) {
        rows.push_back(Row{"-", "-", "-", "refused", "-", r.path.string(), ""});
        ok = false;
    }
    for (const auto& d : discovery.refused_directories) {
        for (const auto& f : d.files) rows.push_back(Row{"-", "-", "-", "refused", "-", f.string(), ""});
        ok = false;
    }
    print_table(rows);
    for (const auto& d : discovery.refused_directories) {
        std::printf("refused directory %s: %s\n", d.path.string().c_str(), describe(d).c_str());
    }
    for (const auto& r : discovery.refused) std::printf("refused %s: %s\n", r.path.string().c_str(), r.reason.c_str());
    for (const auto& d : discovery.duplicates) {
        std::printf("duplicate %s: the same plugin and version as %s, which is used\n", d.file.path.string().c_str(),
                    d.used.string().c_str());
    }
    if (ok) {
        std::printf(
            "configuration ok: every plugin file loads, and every plugin with a config schema has settings that fit "
            "it.\nNot checked: plugins are not initialised, so a plugin may still refuse settings its schema does "
            "not describe, or fail for reasons of its own.\n");
    } else {
        std::printf("configuration has problems: see above\n");
    }
    std::fflush(stdout);
    return ok ? kExitOk : kExitFailure;
}

}  // namespace kerberus::ops
