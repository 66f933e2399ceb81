// Log setup: one sink, the host's logger "kerberusd" and one logger per
// plugin named by its id, so every line says who wrote it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

namespace kerberus::ops {

// Creates the host logger (level info until the config says otherwise).
// Lines go to the journal when stderr is connected to it (systemd's
// JOURNAL_STREAM names stderr's device:inode), with SYSLOG_IDENTIFIER set to
// the logger's name — `kerberusd` or the plugin id — and the priority;
// otherwise to stderr.
std::shared_ptr<spdlog::logger> host_logger();

// True if `journal_stream` ("<device>:<inode>", from JOURNAL_STREAM) is the
// file stderr points at.
bool stream_is_journal(const char* journal_stream, unsigned long long device, unsigned long long inode);

// Level names as in config: trace|debug|info|warn|error|critical|off.
spdlog::level::level_enum parse_level(const std::string& name);

void set_host_level(const std::string& level);

// A logger for plugin `id` on the same sink; its own level or the host's.
std::shared_ptr<spdlog::logger> plugin_logger(const std::string& id, const std::optional<std::string>& level);

}  // namespace kerberus::ops
