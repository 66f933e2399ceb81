#include "ops/logging.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/events.h"

namespace kerberus::ops {
namespace {

constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v";

std::shared_ptr<spdlog::logger>& host_slot() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
    return stream_is_journal(stream, st.st_dev, st.st_ino);
}

spdlog::sink_ptr make_sink() {
    // The journal gets the bare message: time, level and name are fields.
    if (stderr_is_journal()) return std::make_shared<spdlog::sinks::systemd_sink_mt>("", false);
    return std::make_shared<spdlog::sinks::stderr_sink_mt>();
}

}  // namespace

std::shared_ptr<spdlog::logger> host_logger() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Warnings and errors also go to the ring the dashboard shows.
        auto events = std::make_shared<admin::EventSink>();
        events->set_level(spdlog::level::warn);
        auto logger = std::make_shared<spdlog::logger>("kerberusd", spdlog::sinks_init_list{make_sink(), events});
        logger->set_pattern(kPattern);
        logger->set_level(spdlog::level::info);
        // Warnings and errors are rare and must not sit in a buffer when the
        // process dies.
        logger->flush_on(spdlog::level::info);
        host_slot() = logger;
    });
    return host_slot();
}

bool stream_is_journal(const char* journal_stream, unsigned long long device, unsigned long long inode) {
    unsigned long long dev = 0, ino = 0;
    char tail = 0;
    if (std::sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2) return false;
    return dev == device && ino == inode;
}

spdlog::level::level_enum parse_level(const std::string& name) {
    if (name == "warn") return spdlog::level::warn;
    return spdlog::level::from_str(name);
}

void set_host_level(const std::string& level) { host_logger()->set_level(parse_level(level)); }

std::shared_ptr<spdlog::logger> plugin_logger(const std::string& id, const std::optional<std::string>& level) {
    auto host = host_logger();
    auto logger = host->clone(id);
    logger->set_level(level ? parse_level(*level) : host->level());
    return logger;
}

}  // namespace kerberus::ops
