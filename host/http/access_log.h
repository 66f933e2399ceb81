// One line per answered request, off by default (access_log.enabled).
//
// Written off the request path: each thread that answers appends its lines
// to a buffer of its own (a lock nobody else takes but the writer, for a
// moment), and one writer thread collects every buffer ten times a second
// and writes them out in one go. A request costs formatting its line and
// no system call, wake-up or shared lock. When the writer falls behind (a
// stalled disk), a buffer stops growing at 4 MiB and later lines are
// dropped, counted and reported rather than a worker blocking.
//
// text: Common Log Format, then the duration in seconds, the plugin ("-"
// for none) and the request id:
//   127.0.0.1 - - [29/Nov/2026:20:01:02 +0000] "GET /api/hello/x HTTP/1.1" 200 14 0.000118 hello 3f2a…
// json: {"time":..,"remote":..,"method":..,"target":..,"protocol":..,"status":..,"bytes":..,
//        "duration_seconds":..,"plugin":..,"request_id":..}
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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
    // std::runtime_error naming the path when it cannot. `log` (may be
    // null) hears of dropped lines.
    AccessLog(const config::AccessLogSettings& settings, std::shared_ptr<spdlog::logger> log);
    // Writes what is buffered, then stops the writer.
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    // Any thread; never blocks on I/O.
    void record(const AccessEntry& entry);

    // One thread's lines waiting for the writer.
    struct Shard {
        std::mutex mutex;
        std::string lines;     // whole lines, each ending in '\n'
        uint64_t dropped = 0;  // lines refused while full
        bool orphaned = false;  // its thread ended: freed once written
    };

private:
    void format(const AccessEntry& e, std::string& out) const;
    Shard& shard();
    void run();
    // Takes every shard's lines and writes them; returns how many were
    // dropped since the last call.
    uint64_t write_out(std::string& batch);
    void write_batch(std::string_view batch);

    const bool json_;
    const bool journal_;
    int fd_ = -1;
    bool owns_fd_ = false;
    const uint64_t id_;  // tells this log's shards from an earlier one's
    const std::shared_ptr<spdlog::logger> log_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;                      // under mutex_
    std::vector<std::shared_ptr<Shard>> shards_;  // under mutex_
    std::thread writer_;
};

}  // namespace kerberus::http
