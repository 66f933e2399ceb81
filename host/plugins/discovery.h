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

// Every plugin file in the directories, in directory order then name order;
// a file reached twice (symlinks, a directory listed twice) appears once,
// under its canonical path. Directories that do not exist are reported.
struct DirectoryScan {
    std::vector<std::filesystem::path> files;
    std::vector<std::string> warnings;
};
DirectoryScan scan_plugin_directories(const std::vector<std::filesystem::path>& directories);

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
    std::vector<DuplicateFile> duplicates;
    std::vector<std::string> warnings;
};

// Opens every file, refuses the broken ones and, per id, picks the highest
// version that satisfies plugins.<id>.version. Plugins disabled in config
// are still opened (so --check reports on them) but marked by the caller.
Discovery discover_plugins(const config::Config& config);

}  // namespace kerberus
