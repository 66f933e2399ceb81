#include "http/kept_requests.h"

#include <vector>

#include "plugins/plugin_instance.h"

namespace kerberus::http {

using State = Exchange::State;

KeptRequests::KeptRequests(std::function<void(Exchange&)> on_answered, std::chrono::milliseconds request_timeout)
    : on_answered_(std::move(on_answered)), request_timeout_(request_timeout), timer_([this] { run_deadlines(); }) {}

KeptRequests::~KeptRequests() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    timer_.join();
    // Whatever is left belongs to plugins that were never stopped; their
    // connections are gone with the server, so only memory remains.
    for (Exchange* ex : held_) delete ex;
}

bool KeptRequests::keep(Exchange* ex, std::chrono::steady_clock::time_point deadline, bool close_connection) {
    std::lock_guard lock(mutex_);
    State expected = State::handling;
    // The plugin may have answered from its own thread before the handler
    // returned; then there is nothing to keep.
    if (!ex->state.compare_exchange_strong(expected, State::kept)) return false;
    // Any answer to a kept exchange is sent under this mutex's protection
    // (respond_kept, expiry), so it sees this.
    if (close_connection) ex->close_after_response();
    ex->deadline = deadline;
    held_.insert(ex);
    if (ex->streaming()) return true;  // a stream has no deadline
    bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
    deadlines_.emplace(deadline, ex);
    if (earliest) wake_.notify_one();
    return true;
}

void KeptRequests::forget_deadline_locked(Exchange* ex) {
    auto range = deadlines_.equal_range(ex->deadline);
    for (auto it = range.first; it != range.second; ++it) {
        if (it->second == ex) {
            deadlines_.erase(it);
            return;
        }
    }
}

kerberus_status KeptRequests::begin_stream(Exchange* ex) {
    std::lock_guard lock(mutex_);
    if (ex->streaming()) return KERBERUS_ERR_STATE;
    switch (ex->state.load(std::memory_order_acquire)) {
        case State::handling: break;
        case State::kept: forget_deadline_locked(ex); break;
        case State::expired: return KERBERUS_ERR_EXPIRED;
        default: return KERBERUS_ERR_STATE;
    }
    ex->mark_streaming();
    return KERBERUS_OK;
}

kerberus_status KeptRequests::respond_kept(Exchange* ex, int status, std::string_view body) {
    std::unique_lock lock(mutex_);
    State expected = State::kept;
    bool ours = ex->state.compare_exchange_strong(expected, State::responded);
    forget_deadline_locked(ex);
    held_.erase(ex);
    bool closed = closed_;
    lock.unlock();
    if (ours && !closed) {
        ex->send(status, body);
        on_answered_(*ex);
    }
    // The host answered it (stopping its body without waiting): a body
    // callback may still run, and the plugin frees what it uses once this
    // returns.
    if (!ours) ex->await_body_callbacks();
    delete ex;
    return ours ? KERBERUS_OK : KERBERUS_ERR_EXPIRED;
}

void KeptRequests::expire_locked(Exchange* ex, metrics::HostReason reason, std::string_view message) {
    State expected = State::kept;
    if (!ex->state.compare_exchange_strong(expected, State::expired) || closed_) return;
    // A body callback may be waiting for this lock (its respond()): stop
    // the body without waiting for it.
    ex->stop_body(false);
    ex->send_host_error(reason, message);
    on_answered_(*ex);
}

void KeptRequests::forget_plugin(const kerberus::PluginInstance* plugin) {
    // First, no more stream events for this plugin: an event callback in
    // progress may still end its stream, which takes this mutex.
    std::vector<std::shared_ptr<StreamEvents>> events;
    {
        std::lock_guard lock(mutex_);
        for (Exchange* ex : held_) {
            if (ex->plugin == plugin && ex->streaming()) events.push_back(ex->stream_events());
        }
    }
    for (auto& e : events) {
        if (e) e->end();
    }
    // Likewise no more body callbacks: they are stopped, and one in
    // progress finishes, before the exchanges are freed.
    std::vector<std::shared_ptr<RequestBody>> bodies;
    {
        std::lock_guard lock(mutex_);
        for (Exchange* ex : held_) {
            if (ex->plugin != plugin) continue;
            if (auto body = ex->body_stream()) bodies.push_back(std::move(body));
        }
    }
    for (auto& b : bodies) b->stop();
    std::lock_guard lock(mutex_);
    for (auto it = deadlines_.begin(); it != deadlines_.end();) {
        if (it->second->plugin == plugin) it = deadlines_.erase(it);
        else ++it;
    }
    std::vector<Exchange*> mine;
    for (Exchange* ex : held_) {
        if (ex->plugin == plugin) mine.push_back(ex);
    }
    for (Exchange* ex : mine) {
        expire_locked(ex, metrics::HostReason::plugin_stopped, "the plugin stopped before answering this request");
        held_.erase(ex);
        delete ex;
    }
}

void KeptRequests::expire_all(std::string_view message) {
    std::lock_guard lock(mutex_);
    for (auto& [when, ex] : deadlines_) expire_locked(ex, metrics::HostReason::shutting_down, message);
    deadlines_.clear();
}

void KeptRequests::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
}

void KeptRequests::run_deadlines() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (deadlines_.empty()) {
            wake_.wait(lock);
            continue;
        }
        auto next = deadlines_.begin()->first;
        if (wake_.wait_until(lock, next) != std::cv_status::timeout) continue;
        auto now = std::chrono::steady_clock::now();
        while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
            Exchange* ex = deadlines_.begin()->second;
            deadlines_.erase(deadlines_.begin());
            // A streamed body still arriving, or one that ended less than a
            // timeout ago, moves the deadline on.
            if (auto later = ex->body_deadline(request_timeout_); later && *later > now) {
                ex->deadline = *later;
                deadlines_.emplace(*later, ex);
                continue;
            }
            // Still held: the plugin's respond() frees it and learns EXPIRED.
            expire_locked(ex, metrics::HostReason::answer_timeout, "the plugin did not answer within server.request_timeout");
            // The plugin's own log says which of its requests went unanswered.
            if (ex->plugin != nullptr) {
                ex->plugin->logger().warn("{} {} (route {} {}) was not answered within server.request_timeout; the "
                                          "client got 504",
                                          ex->method(), ex->raw_path(), ex->route_method(), ex->route_pattern());
            }
        }
    }
}

}  // namespace kerberus::http
