// Finding plugin files and choosing one file per plugin id.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugins/plugin_file.h"

namespace kerberus {

// "hello.so" or "hello.so.1.2.3": the names a plugin file may have.
bool is_plugin_file_name(const std::string& name);

// A plugin directory that may not be trusted (plugins/trust.h): none of the
// plugin files in it is opened.
struct DirectoryRefusal {
    std::filesystem::path path;
    std::string reason;                        // as PluginRefusal's
    std::vector<std::filesystem::path> files;  // the plugin files in it, refused with it
};

// The refusal as one line says it: the reason, then which files it costs.
std::string describe(const DirectoryRefusal& refusal);

// Every plugin file in the directories, in directory order then name order;
// a file reached twice (symlinks, a directory listed twice) appears once,
// under its canonical path. Directories that do not exist are reported;
// with `strict_modes`, directories that may not be trusted are refused.
struct DirectoryScan {
    std::vector<std::filesystem::path> files;
    std::vector<DirectoryRefusal> refused;
    std::vector<std::string> warnings;
};
DirectoryScan scan_plugin_directories(const std::vector<std::filesystem::path>& directories, bool strict_modes = true);

// The outcome for one plugin id after looking at every file that provides it.
struct PluginChoice {
    std::string id;
    std::optional<PluginFile> chosen;     // empty: no file satisfies the constraint
    std::vector<PluginFile> skipped;      // other versions, highest first
    std::optional<std::string> constraint;
    std::string note;                     // one line for the log
};

// A file holding the same id and version as one found before it (directory
// order): never used, but reported.
struct DuplicateFile {
    PluginFile file;
    std::filesystem::path used;  // the earlier file, which is
};

struct Discovery {
    std::map<std::string, PluginChoice> plugins;  // by id
    std::vector<PluginRefusal> refused;
    std::vector<DirectoryRefusal> refused_directories;
    std::vector<DuplicateFile> duplicates;
    std::vector<std::string> warnings;
};

// Opens every file, refuses the broken and untrusted ones (plugin_trust,
// plugins.<id>.sha256) and, per id, picks the highest version that
// satisfies plugins.<id>.version. Plugins disabled in config are still
// opened (so --check reports on them) but marked by the caller.
Discovery discover_plugins(const config::Config& config);

// For a plugin id no file was chosen for: the refusal that cost it its
// file, as a sentence ("plugin file F was refused: ..."); nullopt when no
// refused file was meant to provide it.
std::optional<std::string> refusal_of(const Discovery& discovery, const std::string& id);

}  // namespace kerberus
