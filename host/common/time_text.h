// Time stamps as the formats we emit spell them: RFC 3339 in JSON documents
// and log lines, IMF-fixdate (RFC 9110 5.6.7) in Date headers, the Common
// Log Format's bracketed stamp in access logs. Always UTC.
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace kerberus {

// "2026-11-29T20:01:02.345Z" (RFC 3339, millisecond precision).
std::string iso_time(std::chrono::system_clock::time_point t);

// The current second formatted with one strftime pattern, redone only when
// the second changes: hot paths keep one per thread per pattern. The view
// stays valid until the next call on the same object.
class SecondStamp {
public:
    explicit SecondStamp(const char* pattern) : pattern_(pattern) {}
    std::string_view now();

private:
    const char* pattern_;
    std::time_t formatted_at_ = 0;
    char text_[48]{};
    std::size_t length_ = 0;
};

}  // namespace kerberus
