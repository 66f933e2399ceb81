#include "http/access_log.h"

#include <fcntl.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/time_text.h"

namespace kerberus::http {
namespace {

// A thread's lines past this wait for a writer that fell behind: later
// ones are dropped.
constexpr std::size_t kShardLimit = 4 * 1024 * 1024;
// How often the writer collects; also how far behind a tail -f can be.
constexpr std::chrono::milliseconds kInterval{100};

// "[29/Nov/2026:20:01:02 +0000]"
std::string_view clf_time() {
    thread_local SecondStamp stamp("[%d/%b/%Y:%H:%M:%S +0000]");
    return stamp.now();
}

// Request targets come from clients: the quote and control bytes would
// break the line's fields.
void append_clean(std::string& out, std::string_view text) {
    for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == 0x7f) ? '?' : c;
}

std::atomic<uint64_t> next_log_id{1};

// The shard this thread writes to, and which log it belongs to. A thread
// that ends orphans it: the writer frees it once its lines are out.
struct Registration {
    uint64_t log_id = 0;
    std::shared_ptr<AccessLog::Shard> shard;

    void orphan() {
        if (!shard) return;
        std::lock_guard lock(shard->mutex);
        shard->orphaned = true;
    }
    ~Registration() { orphan(); }
};
thread_local Registration registration;

}  // namespace

AccessLog::AccessLog(const config::AccessLogSettings& settings, std::shared_ptr<spdlog::logger> log)
    : json_(settings.format == "json"),
      journal_(settings.path == "-" && std::getenv("JOURNAL_STREAM") != nullptr),
      id_(next_log_id.fetch_add(1)),
      log_(std::move(log)) {
    if (settings.path != "-") {
        fd_ = ::open(settings.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd_ < 0) throw std::runtime_error("access_log.path " + settings.path + ": " + std::strerror(errno));
        owns_fd_ = true;
    } else if (!journal_) {
        fd_ = STDOUT_FILENO;
    }
    writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    writer_.join();
    if (owns_fd_) ::close(fd_);
}

AccessLog::Shard& AccessLog::shard() {
    if (registration.log_id != id_) {
        registration.orphan();
        auto fresh = std::make_shared<Shard>();
        {
            std::lock_guard lock(mutex_);
            shards_.push_back(fresh);
        }
        registration.log_id = id_;
        registration.shard = std::move(fresh);
    }
    return *registration.shard;
}

void AccessLog::record(const AccessEntry& e) {
    thread_local std::string line;
    line.clear();
    format(e, line);
    line.push_back('\n');
    Shard& s = shard();
    std::lock_guard lock(s.mutex);
    if (s.lines.size() + line.size() > kShardLimit) {
        ++s.dropped;
        return;
    }
    s.lines.append(line);
}

void AccessLog::format(const AccessEntry& e, std::string& line) const {
    if (json_) {
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
        auto member = [&](const char* name, std::string_view value) {
            w.Key(name);
            w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
        };
        w.StartObject();
        member("time", iso_time(std::chrono::system_clock::now()));
        member("remote", e.remote);
        member("method", e.method);
        member("target", e.target);
        member("protocol", e.http10 ? "HTTP/1.0" : "HTTP/1.1");
        w.Key("status");
        w.Int(e.status);
        w.Key("bytes");
        w.Uint64(e.bytes);
        // Microseconds, as in the text format: Double() would print binary noise.
        char seconds[32];
        int length = std::snprintf(seconds, sizeof seconds, "%.6f", e.seconds);
        w.Key("duration_seconds");
        w.RawValue(seconds, static_cast<std::size_t>(length), rapidjson::kNumberType);
        w.Key("plugin");
        if (e.plugin.empty()) w.Null();
        else w.String(e.plugin.data(), static_cast<rapidjson::SizeType>(e.plugin.size()));
        member("request_id", e.request_id);
        w.EndObject();
        line.append(buffer.GetString(), buffer.GetSize());
        return;
    }
    line.append(e.remote.empty() ? "-" : e.remote).append(" - - ").append(clf_time()).append(" \"");
    append_clean(line, e.method);
    line += ' ';
    append_clean(line, e.target.empty() ? std::string_view("-") : e.target);
    line.append(e.http10 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
    char numbers[64];
    int n = std::snprintf(numbers, sizeof numbers, "%d %llu %.6f ", e.status, static_cast<unsigned long long>(e.bytes),
                          e.seconds);
    line.append(numbers, static_cast<std::size_t>(n));
    line.append(e.plugin.empty() ? "-" : e.plugin).append(" ").append(e.request_id);
}

void AccessLog::run() {
    std::string batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, kInterval, [this] { return stopping_; });
        const bool stop = stopping_;
        lock.unlock();
        if (uint64_t dropped = write_out(batch); dropped > 0) {
            if (log_) log_->warn("access log: {} lines dropped; its writer fell behind (a slow disk or journal)", dropped);
        }
        lock.lock();
        if (stop) return;
    }
}

uint64_t AccessLog::write_out(std::string& batch) {
    std::vector<std::shared_ptr<Shard>> shards;
    {
        std::lock_guard lock(mutex_);
        shards = shards_;
    }
    uint64_t dropped = 0;
    bool any_orphaned = false;
    batch.clear();
    for (const auto& s : shards) {
        std::lock_guard lock(s->mutex);
        batch.append(s->lines);
        s->lines.clear();
        dropped += s->dropped;
        s->dropped = 0;
        any_orphaned = any_orphaned || s->orphaned;
    }
    if (any_orphaned) {
        // Emptied above, and no thread writes to them any more.
        std::lock_guard lock(mutex_);
        std::erase_if(shards_, [](const std::shared_ptr<Shard>& s) {
            std::lock_guard shard_lock(s->mutex);
            return s->orphaned && s->lines.empty();
        });
    }
    write_batch(batch);
    // A burst's buffer is not worth keeping.
    if (batch.capacity() > kShardLimit) std::string().swap(batch);
    return dropped;
}

void AccessLog::write_batch(std::string_view batch) {
    if (journal_) {
        while (!batch.empty()) {
            std::size_t end = batch.find('\n');
            std::string_view line = batch.substr(0, end);
            sd_journal_send("MESSAGE=%.*s", static_cast<int>(line.size()), line.data(),
                            "SYSLOG_IDENTIFIER=kerberusd-access", "PRIORITY=6", nullptr);
            batch.remove_prefix(end == std::string_view::npos ? batch.size() : end + 1);
        }
        return;
    }
    while (!batch.empty()) {
        ssize_t n = ::write(fd_, batch.data(), batch.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a full or failing disk: these lines are lost
        batch.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace kerberus::http
