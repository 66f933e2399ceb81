// One line per answered request, off by default (access_log.enabled).
//
// Written off the request path: a line is formatted into a per-thread
// buffer and handed to spdlog's asynchronous queue, whose own thread writes
// it; when that thread falls behind, the oldest queued lines are dropped
// rather than a worker blocking.
//
// text: Common Log Format, then the duration in seconds, the plugin ("-"
// for none) and the request id:
//   127.0.0.1 - - [29/Nov/2026:20:01:02 +0000] "GET /api/hello/x HTTP/1.1" 200 14 0.000118 hello 3f2a…
// json: {"time":..,"remote":..,"method":..,"target":..,"protocol":..,"status":..,"bytes":..,
//        "duration_seconds":..,"plugin":..,"request_id":..}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/async.h>
#include <spdlog/logger.h>

#include "config/config.h"

namespace kerberus::http {

struct AccessEntry {
    std::string_view remote;
    std::string_view method;
    std::string_view target;  // path and query as sent
    bool http10;
    int status;
    uint64_t bytes;  // the whole answer on the wire
    double seconds;  // arrival to answer
    std::string_view plugin;
    std::string_view request_id;
};

class AccessLog {
public:
    // Opens the file (or the journal, or standard output). Throws
    // std::runtime_error naming the path when it cannot.
    explicit AccessLog(const config::AccessLogSettings& settings);
    ~AccessLog();

    // Any thread; never blocks.
    void record(const AccessEntry& entry);

private:
    bool json_;
    std::shared_ptr<spdlog::details::thread_pool> pool_;
    std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace kerberus::http
