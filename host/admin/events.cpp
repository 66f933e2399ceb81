#include "admin/events.h"

namespace kerberus::admin {

Events& Events::instance() {
    static Events events;
    return events;
}

void Events::record(Event event) {
    std::lock_guard lock(mutex_);
    event.id = ++recorded_;
    events_.push_front(std::move(event));
    if (events_.size() > kKept) events_.pop_back();
}

std::vector<Event> Events::recent() const {
    std::lock_guard lock(mutex_);
    return {events_.begin(), events_.end()};
}

void EventSink::sink_it_(const spdlog::details::log_msg& msg) {
    auto level = spdlog::level::to_string_view(msg.level);
    Events::instance().record(Event{msg.time, 0, std::string(level.data(), level.size()),
                                    std::string(msg.logger_name.data(), msg.logger_name.size()),
                                    std::string(msg.payload.data(), msg.payload.size())});
}

}  // namespace kerberus::admin
