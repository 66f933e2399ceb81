// The daemon's recent notable events (warnings, errors, reloads), kept in a
// small ring for the dashboard: an operator sees what just went wrong
// without opening the journal.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

namespace kerberus::admin {

struct Event {
    std::chrono::system_clock::time_point at;
    uint64_t id = 0;     // set by record(): 1, 2, ... (a reader tells new ones apart)
    std::string level;   // "info", "warning", "error", "critical"
    std::string source;  // "kerberusd" or a plugin id
    std::string message;
};

class Events {
public:
    static constexpr std::size_t kKept = 100;
    // The process's ring.
    static Events& instance();

    void record(Event event);
    // Newest first.
    std::vector<Event> recent() const;

private:
    mutable std::mutex mutex_;
    std::deque<Event> events_;
    uint64_t recorded_ = 0;
};

// An spdlog sink that records what reaches it (set its level to warn) into
// Events::instance(); added to the host logger, so plugin loggers (its
// clones) feed it too.
class EventSink : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}
};

}  // namespace kerberus::admin
