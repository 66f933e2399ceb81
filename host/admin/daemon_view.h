// What the daemon runs, as the admin surface and readiness show it: the
// plugin instances serving, every plugin file seen and what became of it,
// and how reloads went. The main thread publishes a new snapshot after
// startup, each reload and at shutdown; readers on any thread take the
// current one without blocking the writer for long.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugins/plugin_instance.h"

namespace kerberus::admin {

// One plugin file found in the plugin directories.
struct FileRecord {
    std::string path;
    std::string id;  // empty when the file was refused before its id was read
    std::string version;
    std::string abi;
    std::string sha256;
    std::string description;
    // chosen: the instance of `id` runs it (its state tells the rest);
    // disabled: chosen, but plugins.<id>.enabled is false;
    // skipped: another version was chosen; refused: it cannot be loaded.
    std::string state;
    std::string reason;  // for skipped and refused: why
};

struct ReloadStatus {
    uint64_t successes = 0;
    uint64_t rejections = 0;  // the new configuration did not validate: nothing changed
    std::chrono::system_clock::time_point last_success{};
    std::chrono::system_clock::time_point last_attempt{};
    bool last_ok = true;
    std::string last_message;  // the summary, or why it was rejected
};

struct DaemonSnapshot {
    std::vector<std::shared_ptr<PluginInstance>> instances;  // enabled plugins, serving or failed, by id
    std::vector<std::shared_ptr<PluginInstance>> stopping;   // retired by a reload, finishing their requests
    std::vector<FileRecord> files;
    std::vector<std::string> disabled;                       // ids of plugins disabled in config
    config::Config config;
    ReloadStatus reload;
    std::chrono::system_clock::time_point started_at{};
    std::string public_url;  // "http://127.0.0.1:7007"
    std::string admin_url;
    bool starting = true;    // before every enabled plugin got its init
    bool draining = false;   // shutdown began
};

class DaemonView {
public:
    std::shared_ptr<const DaemonSnapshot> snapshot() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    // Main thread: change a copy of the current snapshot and publish it.
    template <typename Change>
    void update(Change&& change) {
        std::lock_guard lock(mutex_);
        auto next = std::make_shared<DaemonSnapshot>(*current_);
        change(*next);
        current_ = std::move(next);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const DaemonSnapshot> current_ = std::make_shared<DaemonSnapshot>();
};

}  // namespace kerberus::admin
