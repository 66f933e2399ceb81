#include "common/time_text.h"

#include <cstdio>

namespace kerberus {

std::string iso_time(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[40];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
    return text;
}

std::string_view SecondStamp::now() {
    std::time_t now = std::time(nullptr);
    if (now != formatted_at_ || length_ == 0) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        length_ = std::strftime(text_, sizeof text_, pattern_, &tm);
        formatted_at_ = now;
    }
    return {text_, length_};
}

}  // namespace kerberus
