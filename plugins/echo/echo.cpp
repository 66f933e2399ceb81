// echo — answers requests with a JSON description of themselves: a tool for
// testing clients, proxies and kerberus's own request path, and an example
// of the C++ SDK (plugin.hpp) including asynchronous answers.
//
//   *   /params/:first/:second   the description, with both parameters
//   *   /*                       the description; "*" holds the rest of the path
//   GET /delay?ms=N              the description plus "delayed_ms", answered
//                                after N ms (default 100, clamped to 0..60000)
//   GET /status/:code            an answer with that status (200..599)
//   GET /events?interval=MS&count=N
//                                Server-Sent Events: a "tick" event every MS
//                                milliseconds (default 1000, clamped to
//                                10..60000), N of them (default, and 0: until
//                                the client leaves); a streamed response
#include <kerberus/plugin.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>

namespace {

using Clock = std::chrono::steady_clock;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::int64_t kDefaultDelayMs = 100;
constexpr std::int64_t kMaxDelayMs = 60000;
constexpr std::int64_t kDefaultIntervalMs = 1000;
constexpr std::int64_t kMinIntervalMs = 10;

// Request data may hold any bytes; kerberus::json::string makes them a valid
// JSON string (ill-formed UTF-8 becomes U+FFFD), which the writer places.
void write_string(JsonWriter& w, std::string_view s) {
    std::string literal = kerberus::json::string(s);
    w.RawValue(literal.data(), literal.size(), rapidjson::kStringType);
}

// The plugin.h API has no way to list route parameters, so each route names
// the ones its pattern declares.
std::string describe(const kerberus::RequestView& r, std::initializer_list<const char*> params,
                     std::optional<std::int64_t> delayed_ms = std::nullopt) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    auto field = [&](const char* key, std::string_view value) {
        w.Key(key);
        write_string(w, value);
    };
    auto pair = [&](std::string_view name, std::string_view value) {
        write_string(w, name);
        write_string(w, value);
    };
    w.StartObject();
    field("method", r.method());
    field("path", r.path());
    field("raw_path", r.raw_path());
    w.Key("params");
    w.StartObject();
    for (const char* name : params) field(name, r.param(name).value_or(""));
    w.EndObject();
    // Repeated names appear repeatedly, in request order.
    w.Key("query");
    w.StartObject();
    r.for_each_query_param(pair);
    w.EndObject();
    field("query_string", r.query());
    w.Key("headers");
    w.StartObject();
    r.for_each_header(pair);
    w.EndObject();
    field("body", r.body());
    field("remote_address", r.remote_address());
    field("request_id", r.request_id());
    // Who called, when the request carried credentials that verified.
    w.Key("caller");
    if (auto caller = r.caller()) {
        w.StartObject();
        field("subject", caller->subject);
        field("token_type", caller->token_type);
        w.EndObject();
    } else {
        w.Null();
    }
    if (delayed_ms) {
        w.Key("delayed_ms");
        w.Int64(*delayed_ms);
    }
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

// A decimal integer, saturated to the int64 range; std::nullopt if `text`
// is anything else.
std::optional<std::int64_t> parse_int(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (end != text.data() + text.size()) return std::nullopt;
    if (error == std::errc::result_out_of_range) {
        return text.front() == '-' ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    }
    if (error != std::errc()) return std::nullopt;
    return value;
}

class Echo final : public kerberus::Plugin {
public:
    void init(kerberus::Host& host) override {
        host.route("*", "/params/:first/:second", [](kerberus::Request& r) { handle_echo(r, {"first", "second"}); },
                   "Describes the request, with both path parameters");
        host.route("*", "/*", [](kerberus::Request& r) { handle_echo(r, {"*"}); },
                   "Describes the request as JSON: method, path, query, headers, body");
        host.route("GET", "/delay", [this](kerberus::Request& r) { handle_delay(r); },
                   "Describes the request after ?ms=N milliseconds (asynchronous)");
        host.route("GET", "/status/:code", [](kerberus::Request& r) { handle_status(r); },
                   "Answers with the given status");
        host.route("GET", "/events", [this](kerberus::Request& r) { handle_events(r); },
                   "Server-Sent Events: a tick every ?interval=MS milliseconds, ?count=N of them or until the client leaves");
        // Last, so that a failing init never leaves a thread behind.
        worker_ = std::thread([this] { run(); });
    }

    // Whatever still waits is answered 503 at once, then the worker joins.
    void stop() override {
        std::multimap<Clock::time_point, Delayed> waiting;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            waiting.swap(queue_);
        }
        wake_.notify_one();
        for (auto& entry : waiting) {
            kerberus::PendingRequest& request = entry.second.request;
            request.respond_error(503, "the echo plugin is stopping");
        }
        worker_.join();
        // Event streams end cleanly: the client sees the stream complete.
        tickers_.clear();
    }

private:
    struct Delayed {
        std::int64_t ms;
        kerberus::PendingRequest request;
    };

    static void handle_echo(kerberus::Request& r, std::initializer_list<const char*> params) {
        r.respond_json(200, describe(r, params));
    }

    // Never waits itself: the request is kept and queued for the worker.
    void handle_delay(kerberus::Request& r) {
        std::int64_t ms = kDefaultDelayMs;
        if (std::optional<std::string_view> text = r.query_param("ms")) {
            std::optional<std::int64_t> parsed = parse_int(*text);
            if (!parsed) {
                r.respond_error(400, "query parameter ms must be an integer (milliseconds)");
                return;
            }
            ms = std::clamp(*parsed, std::int64_t{0}, kMaxDelayMs);
        }
        Clock::time_point due = Clock::now() + std::chrono::milliseconds(ms);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            queue_.emplace(due, Delayed{ms, r.keep()});
        }
        wake_.notify_one();
    }

    // The stream goes to the worker, which writes each tick when it is due.
    void handle_events(kerberus::Request& r) {
        std::int64_t interval = kDefaultIntervalMs, count = 0;
        for (auto [name, value, low, high] : {std::tuple{"interval", &interval, kMinIntervalMs, kMaxDelayMs},
                                              std::tuple{"count", &count, std::int64_t{0},
                                                         std::numeric_limits<std::int64_t>::max()}}) {
            std::optional<std::string_view> text = r.query_param(name);
            if (!text) continue;
            std::optional<std::int64_t> parsed = parse_int(*text);
            if (!parsed) {
                r.respond_error(400, std::string("query parameter ") + name + " must be an integer");
                return;
            }
            *value = std::clamp(*parsed, low, high);
        }
        auto closed = std::make_shared<std::atomic<bool>>(false);
        r.add_header("Content-Type", "text/event-stream");
        r.add_header("Cache-Control", "no-cache");
        // The client leaving wakes the worker, which drops the stream.
        kerberus::ResponseStream stream = r.stream(200, -1, [this, closed](kerberus::StreamEvent event) {
            if (event != kerberus::StreamEvent::closed) return;
            closed->store(true);
            wake_.notify_one();
        });
        if (!stream) return;  // an older host: the SDK's 500 says why
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;  // ended as it goes out of scope
            tickers_.push_back(Ticker{std::move(stream), std::chrono::milliseconds(interval), count, 0, closed,
                                      Clock::now()});
        }
        wake_.notify_one();
    }

    // 1xx is not a final answer (the host refuses it), and 204 and 304 must
    // not carry a body.
    static void handle_status(kerberus::Request& r) {
        std::optional<std::int64_t> code = parse_int(r.param("code").value_or(""));
        if (!code || *code < 200 || *code > 599) {
            r.respond_error(400, "the status code must be an integer in 200..599");
            return;
        }
        int status = static_cast<int>(*code);
        if (status == 204 || status == 304) {
            r.respond(status);
            return;
        }
        r.respond_json(status, "{\"status\":" + std::to_string(status) + "}");
    }

    // The worker: sleeps until the earliest due request or tick, handles
    // it, repeats.
    void run() {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
            Clock::time_point now = Clock::now();
            tick(now);
            Clock::time_point due = Clock::time_point::max();
            if (!queue_.empty()) due = queue_.begin()->first;
            for (const Ticker& t : tickers_) due = std::min(due, t.due);
            if (now < due) {
                if (due == Clock::time_point::max()) {
                    wake_.wait(lock);
                } else {
                    wake_.wait_until(lock, due);
                }
                continue;
            }
            auto node = queue_.extract(queue_.begin());
            lock.unlock();
            answer(node.mapped());
            lock.lock();
        }
    }

    // With mutex_ held: writes the ticks that are due and drops the streams
    // whose client left or whose count is done (ending them).
    void tick(Clock::time_point now) {
        for (auto it = tickers_.begin(); it != tickers_.end();) {
            Ticker& t = *it;
            bool done = t.closed->load();
            if (!done && now >= t.due) {
                std::string event = "id: " + std::to_string(t.sent) + "\nevent: tick\ndata: {\"tick\":" +
                                    std::to_string(t.sent) + "}\n\n";
                kerberus_status written = t.stream.write(event);
                // KERBERUS_BUSY: taken; a client this slow only gets later ticks later.
                done = written != KERBERUS_OK && written != KERBERUS_BUSY;
                ++t.sent;
                done = done || (t.count > 0 && static_cast<std::int64_t>(t.sent) >= t.count);
                t.due += t.interval;
                if (t.due < now) t.due = now + t.interval;
            }
            it = done ? tickers_.erase(it) : std::next(it);
        }
    }

    // An exception must not escape a std::thread (it would terminate the
    // daemon); the PendingRequest, dropped unanswered, then answers 500.
    void answer(Delayed& delayed) noexcept {
        try {
            delayed.request.respond_json(200, describe(delayed.request, {}, delayed.ms));
        } catch (const std::exception& e) {
            host().error(e.what());
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::multimap<Clock::time_point, Delayed> queue_;  // by due time
    struct Ticker {
        kerberus::ResponseStream stream;
        std::chrono::milliseconds interval;
        std::int64_t count;  // 0: until the client leaves
        std::uint64_t sent;
        std::shared_ptr<std::atomic<bool>> closed;
        Clock::time_point due;
    };
    std::list<Ticker> tickers_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace

KERBERUS_PLUGIN(Echo, "echo", "1.0.0", "Answers requests with a JSON description of themselves")
