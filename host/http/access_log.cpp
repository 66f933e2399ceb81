#include "http/access_log.h"

#include "common/time_text.h"

#include <cstdlib>
#include <ctime>

#include <spdlog/async.h>
#include <spdlog/spdlog.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kerberus::http {
namespace {

// Lines waiting for the writer thread; past that the oldest are dropped.
constexpr std::size_t kQueuedLines = 16 * 1024;

// "[29/Nov/2026:20:01:02 +0000]"
std::string_view clf_time() {
    thread_local SecondStamp stamp("[%d/%b/%Y:%H:%M:%S +0000]");
    return stamp.now();
}

spdlog::sink_ptr make_sink(const std::string& path) {
    if (path != "-") return std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
    if (std::getenv("JOURNAL_STREAM") != nullptr) {
        return std::make_shared<spdlog::sinks::systemd_sink_mt>("kerberusd-access", false);
    }
    return std::make_shared<spdlog::sinks::stdout_sink_mt>();
}

// Request targets come from clients: the quote and control bytes would
// break the line's fields.
void append_clean(std::string& out, std::string_view text) {
    for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == 0x7f) ? '?' : c;
}

}  // namespace

AccessLog::AccessLog(const config::AccessLogSettings& settings) : json_(settings.format == "json") {
    try {
        auto pool = std::make_shared<spdlog::details::thread_pool>(kQueuedLines, 1);
        logger_ = std::make_shared<spdlog::async_logger>("access", make_sink(settings.path), pool,
                                                         spdlog::async_overflow_policy::overrun_oldest);
        logger_->set_pattern("%v");
        logger_->set_level(spdlog::level::info);
        // A line per request is too many writes to flush each; a second
        // behind is soon enough for a tail -f and loses little in a crash.
        spdlog::register_logger(logger_);
        spdlog::flush_every(std::chrono::seconds(1));
        // The pool must live as long as the logger; it holds a reference.
        pool_ = std::move(pool);
    } catch (const std::exception& e) {
        throw std::runtime_error("access_log.path " + settings.path + ": " + e.what());
    }
}

AccessLog::~AccessLog() {
    if (!logger_) return;
    logger_->flush();
    spdlog::drop(logger_->name());
}

void AccessLog::record(const AccessEntry& e) {
    thread_local std::string line;
    line.clear();
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
        w.Key("duration_seconds");
        w.Double(e.seconds);
        w.Key("plugin");
        if (e.plugin.empty()) w.Null();
        else w.String(e.plugin.data(), static_cast<rapidjson::SizeType>(e.plugin.size()));
        member("request_id", e.request_id);
        w.EndObject();
        line.assign(buffer.GetString(), buffer.GetSize());
    } else {
        line.append(e.remote.empty() ? "-" : e.remote).append(" - - ").append(clf_time()).append(" \"");
        append_clean(line, e.method);
        line += ' ';
        append_clean(line, e.target.empty() ? std::string_view("-") : e.target);
        line.append(e.http10 ? " HTTP/1.0\" " : " HTTP/1.1\" ");
        line.append(std::to_string(e.status)).append(" ").append(std::to_string(e.bytes));
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, " %.6f ", e.seconds);
        line.append(seconds).append(e.plugin.empty() ? "-" : e.plugin).append(" ").append(e.request_id);
    }
    logger_->info(line);
}

}  // namespace kerberus::http
