#include "ops/logging.h"

#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace kerberus::ops {
namespace {

constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v";

std::shared_ptr<spdlog::logger>& host_slot() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
}

}  // namespace

std::shared_ptr<spdlog::logger> host_logger() {
    static std::once_flag once;
    std::call_once(once, [] {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        auto logger = std::make_shared<spdlog::logger>("kerberusd", sink);
        logger->set_pattern(kPattern);
        logger->set_level(spdlog::level::info);
        // Warnings and errors are rare and must not sit in a buffer when the
        // process dies.
        logger->flush_on(spdlog::level::info);
        host_slot() = logger;
    });
    return host_slot();
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
