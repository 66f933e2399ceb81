#include "plugins/discovery.h"

#include <sys/stat.h>

#include <algorithm>
#include <regex>
#include <set>
#include <system_error>

#include "plugins/trust.h"

namespace kerberus {
namespace fs = std::filesystem;

bool is_plugin_file_name(const std::string& name) {
    static const std::regex pattern(R"(^[^.].*\.so(\.[0-9]+\.[0-9]+\.[0-9]+)?$)");
    return std::regex_match(name, pattern);
}

std::string describe(const DirectoryRefusal& refusal) {
    if (refusal.files.empty()) return refusal.reason + "; it holds no plugin file yet";
    std::string names;
    for (const auto& f : refusal.files) names += (names.empty() ? "" : ", ") + f.filename().string();
    std::size_t n = refusal.files.size();
    return refusal.reason + "; " + (n == 1 ? "its plugin file is" : "its " + std::to_string(n) + " plugin files are") +
           " refused with it: " + names;
}

DirectoryScan scan_plugin_directories(const std::vector<fs::path>& directories, bool strict_modes) {
    DirectoryScan scan;
    std::set<fs::path> seen;
    std::set<fs::path> refused;
    for (const auto& dir : directories) {
        std::error_code ec;
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            scan.warnings.push_back("plugin directory " + dir.string() + " does not exist or is not a directory");
            continue;
        }
        std::vector<fs::path> names;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (is_plugin_file_name(it->path().filename().string())) names.push_back(it->path());
        }
        if (ec) scan.warnings.push_back("cannot list plugin directory " + dir.string() + ": " + ec.message());
        std::sort(names.begin(), names.end());
        // Whoever can write here can add or replace a file: none is opened.
        std::optional<std::string> untrusted = strict_modes ? ownership_problem(st, dir.string()) : std::nullopt;
        if (untrusted) {
            if (refused.insert(dir).second) scan.refused.push_back(DirectoryRefusal{dir, *untrusted, std::move(names)});
            continue;
        }
        for (const auto& p : names) {
            fs::path canonical = fs::canonical(p, ec);
            if (ec) {
                scan.warnings.push_back("skipping " + p.string() + ": " + ec.message());
                continue;
            }
            if (!fs::is_regular_file(canonical, ec)) continue;
            if (seen.insert(canonical).second) scan.files.push_back(canonical);
        }
    }
    return scan;
}

namespace {

std::string describe(const PluginFile& f) { return f.version.str() + " from " + f.path.string(); }

std::string pin_note(const PluginFile& f, bool pinned) {
    return "sha256 " + f.copy->sha256() + (pinned ? ", as pinned" : "");
}

// "greet.so.1.1.0" holding greet 1.0.0, or "foo.so" holding bar: the name
// is what operators read in directory listings and upgrade by, so it must
// say what the file holds.
std::optional<std::string> misnamed(const PluginFile& f) {
    std::string name = f.path.filename().string();
    std::size_t so = name.find(".so");
    std::string id = announced_id(f.path);
    std::string version = so + 3 < name.size() ? name.substr(so + 4) : "";
    std::string right = f.id + ".so." + f.version.str();
    if (id != f.id) {
        return "file " + f.path.string() + " holds plugin " + f.id + " " + f.version.str() + "; name it " + right;
    }
    if (!version.empty() && version != f.version.str()) {
        return "file " + f.path.string() + " is named version " + version + " but holds " + f.id + " " +
               f.version.str() + "; name it " + right;
    }
    return std::nullopt;
}

PluginChoice choose(const std::string& id, std::vector<PluginFile> candidates,
                    const std::optional<VersionConstraint>& constraint, bool pinned) {
    std::sort(candidates.begin(), candidates.end(),
              [](const PluginFile& a, const PluginFile& b) { return a.version > b.version; });
    PluginChoice choice;
    choice.id = id;
    if (constraint) choice.constraint = constraint->str();
    for (auto& f : candidates) {
        if (!choice.chosen && (!constraint || constraint->matches(f.version))) {
            choice.chosen = std::move(f);
        } else {
            choice.skipped.push_back(std::move(f));
        }
    }
    std::string why = constraint ? " (version constraint \"" + constraint->str() + "\")" : "";
    if (choice.chosen) {
        choice.note =
            "plugin " + id + ": using " + describe(*choice.chosen) + why + ", " + pin_note(*choice.chosen, pinned);
        if (!choice.chosen->description.empty()) choice.note += " (" + choice.chosen->description + ")";
    } else {
        choice.note = "plugin " + id + ": no file satisfies version constraint \"" + constraint->str() + "\"";
    }
    for (const auto& s : choice.skipped) choice.note += "; skipped " + describe(s);
    return choice;
}

}  // namespace

Discovery discover_plugins(const config::Config& config) {
    LoadPolicy policy;
    policy.strict_modes = config.plugin_trust.strict_modes;
    for (const auto& [id, settings] : config.plugins) {
        if (settings.sha256) policy.pins.emplace(id, *settings.sha256);
    }
    Discovery result;
    DirectoryScan scan = scan_plugin_directories(config.plugin_directories, policy.strict_modes);
    result.warnings = std::move(scan.warnings);
    result.refused_directories = std::move(scan.refused);

    std::map<std::string, std::vector<PluginFile>> by_id;
    for (const auto& path : scan.files) {
        PluginFileResult opened = open_plugin_file(path, policy);
        if (auto* refusal = std::get_if<PluginRefusal>(&opened)) {
            result.refused.push_back(std::move(*refusal));
            continue;
        }
        auto& file = std::get<PluginFile>(opened);
        if (auto why = misnamed(file)) result.warnings.push_back(*why);
        // The same version of one id in two files is ambiguous: keep the
        // first (directory order) and say so.
        auto& list = by_id[file.id];
        auto dup = std::find_if(list.begin(), list.end(), [&](const PluginFile& f) { return f.version == file.version; });
        if (dup != list.end()) {
            result.warnings.push_back("plugin " + file.id + " " + file.version.str() + " is provided by both " +
                                      dup->path.string() + " and " + file.path.string() + "; using the first");
            result.duplicates.push_back(DuplicateFile{std::move(file), dup->path});
            continue;
        }
        list.push_back(std::move(file));
    }

    for (auto& [id, files] : by_id) {
        std::optional<VersionConstraint> constraint;
        if (auto it = config.plugins.find(id); it != config.plugins.end() && it->second.version) {
            constraint = VersionConstraint::parse(*it->second.version);
        }
        result.plugins.emplace(id, choose(id, std::move(files), constraint, policy.pins.count(id) > 0));
    }
    return result;
}

std::optional<std::string> refusal_of(const Discovery& discovery, const std::string& id) {
    for (const auto& r : discovery.refused) {
        if (r.id == id) return "plugin file " + r.path.string() + " was refused: " + r.reason;
    }
    for (const auto& d : discovery.refused_directories) {
        for (const auto& f : d.files) {
            if (announced_id(f) == id) return "plugin directory " + d.path.string() + " was refused: " + d.reason;
        }
    }
    return std::nullopt;
}

}  // namespace kerberus
