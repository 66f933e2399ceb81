#include "ops/plugin_set.h"

#include "config/schema.h"
#include "ops/logging.h"

namespace kerberus::ops {
namespace {

config::PluginSettings settings_for(const config::Config& config, const std::string& id) {
    if (auto it = config.plugins.find(id); it != config.plugins.end()) return it->second;
    config::PluginSettings defaults;
    defaults.id = id;
    return defaults;
}

}  // namespace

PluginSet build_plugin_set(const config::Config& config, Discovery& discovery, spdlog::logger& log) {
    for (const auto& w : discovery.warnings) log.warn("{}", w);
    for (const auto& d : discovery.refused_directories) {
        log.error("refusing plugin directory {}: {}", d.path.string(), describe(d));
    }
    for (const auto& r : discovery.refused) log.error("refusing plugin file {}: {}", r.path.string(), r.reason);

    PluginSet set;
    for (auto& [id, choice] : discovery.plugins) {
        config::PluginSettings settings = settings_for(config, id);
        if (!settings.enabled) {
            log.info("plugin {} is disabled in the configuration", id);
            set.disabled.push_back(id);
            continue;
        }
        auto logger = plugin_logger(id, settings.log_level);
        if (choice.chosen) {
            log.info("{}", choice.note);
            set.instances.push_back(std::make_shared<PluginInstance>(*choice.chosen, std::move(settings), logger));
        } else {
            log.error("{}", choice.note);
            set.instances.push_back(
                std::make_shared<PluginInstance>(id, std::move(settings), logger, choice.note));
        }
    }
    for (const auto& [id, settings] : config.plugins) {
        if (!settings.enabled || discovery.plugins.count(id)) continue;
        std::optional<std::string> refused = refusal_of(discovery, id);
        std::string error = refused.value_or("no plugin file provides \"" + id + "\" in the plugin directories");
        // A refusal was logged already, and starting the instance says what it costs.
        if (!refused) {
            (settings.required ? log.error("plugin {}: {}", id, error) : log.warn("plugin {}: {}", id, error));
        }
        set.instances.push_back(std::make_shared<PluginInstance>(id, settings, plugin_logger(id, settings.log_level),
                                                                 error));
    }
    std::sort(set.instances.begin(), set.instances.end(),
              [](const auto& a, const auto& b) { return a->id() < b->id(); });
    return set;
}

void check_plugin_settings(config::Config& config, const Discovery& discovery) {
    for (const auto& [id, choice] : discovery.plugins) {
        if (!choice.chosen || choice.chosen->config_schema.empty()) continue;
        auto [it, added] = config.plugins.try_emplace(id);
        config::PluginSettings& settings = it->second;
        if (added) settings.id = id;
        if (!settings.enabled) continue;
        // A plugin nobody configured is pointed at from the top layer,
        // where its settings would go.
        config::Location fallback = settings.where;
        if (fallback.file.empty() && !config.files.empty()) fallback.file = config.files.back();
        config::apply_schema(settings, choice.chosen->config_schema, fallback);
    }
}

std::vector<admin::FileRecord> file_records(const Discovery& discovery, const config::Config& config) {
    std::vector<admin::FileRecord> records;
    auto record = [](const PluginFile& f, std::string state, std::string reason) {
        return admin::FileRecord{f.path.string(), f.id,          f.version.str(), f.abi(), f.copy->sha256(),
                                 f.description,   std::move(state), std::move(reason)};
    };
    for (const auto& [id, choice] : discovery.plugins) {
        bool enabled = settings_for(config, id).enabled;
        if (choice.chosen) records.push_back(record(*choice.chosen, enabled ? "chosen" : "disabled", ""));
        for (const auto& skipped : choice.skipped) {
            std::string why = "version choice: " + skipped.version.str() + " is not the highest version" +
                              (choice.constraint ? " satisfying " + *choice.constraint : "");
            if (choice.chosen) why += " (" + choice.chosen->version.str() + " was chosen)";
            records.push_back(record(skipped, "skipped", why));
        }
    }
    for (const auto& r : discovery.refused) {
        records.push_back(admin::FileRecord{r.path.string(), "", "", "", "", "", "refused", r.reason});
    }
    for (const auto& d : discovery.refused_directories) {
        for (const auto& f : d.files) {
            records.push_back(admin::FileRecord{f.string(), "", "", "", "", "", "refused",
                                                "plugin directory " + d.path.string() + " is refused: " + d.reason});
        }
    }
    for (const auto& d : discovery.duplicates) {
        records.push_back(record(d.file, "duplicate", "the same plugin and version as " + d.used.string() + ", which is used"));
    }
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return records;
}

}  // namespace kerberus::ops
