// Opening one plugin file and checking its ABI before anything else is read.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <variant>

#include <boost/dll/shared_library.hpp>

#include "common/fault_report.h"
#include "common/semver.h"
#include "plugins/private_copy.h"
#include "kerberus/plugin.h"

namespace kerberus {

// A plugin file that is open and passed every check. Copies share the open
// library; it is unloaded when the last copy goes.
struct PluginFile {
    std::filesystem::path path;
    // Declared before `library` so it outlives it: the library is mapped
    // from this copy (see private_copy.h).
    std::shared_ptr<PrivateCopy> copy;
    std::shared_ptr<boost::dll::shared_library> library;
    // Declared after `library` so it goes first: the range is forgotten
    // before the code is unmapped.
    std::shared_ptr<fault_report::CodeRange> code_range;
    const kerberus_plugin_descriptor* descriptor = nullptr;
    std::string id;
    Version version;
    std::string description;
    std::string config_schema;  // the descriptor's JSON Schema (ABI 1.3); empty when none

    std::string abi() const;  // "1.0"
};

// Why a file was not taken; `reason` is one sentence that says what to do.
struct PluginRefusal {
    std::filesystem::path path;
    std::string reason;
    // The plugin the file was meant to provide: the id in its descriptor
    // when it was read, else the one its name announces.
    std::string id;
};

using PluginFileResult = std::variant<PluginFile, PluginRefusal>;

// What the configuration asks of a file before its code is loaded.
struct LoadPolicy {
    // plugin_trust.strict_modes (plugins/trust.h).
    bool strict_modes = true;
    // plugins.<id>.sha256 by id: the digest a file providing that id must
    // have.
    std::map<std::string, std::string> pins;
};

// Copies the file into sealed memory, checks the copy's owner and mode and
// its digest against the pin for the id its name announces, and only then
// loads it: dlopen (RTLD_NOW | RTLD_LOCAL), find the entry symbol, check the
// ABI, then the id (and its pin, if the name announced another) and the
// version. Never throws.
PluginFileResult open_plugin_file(const std::filesystem::path& path, const LoadPolicy& policy = {});

// The plugin id a file's name announces: "hello" for hello.so.1.2.3.
std::string announced_id(const std::filesystem::path& path);

// "1.0": the ABI this host provides.
std::string host_abi();

}  // namespace kerberus
