#include "http/request_body.h"

#include <limits>

namespace kerberus::http {
namespace {

// The RequestBody whose callback this thread is inside.
thread_local const RequestBody* delivering = nullptr;

// Trailer lines of a streamed chunked body: as much as a head may hold.
constexpr std::size_t kMaxTrailers = 64 * 1024;

int64_t ticks(RequestBody::Clock::time_point t) { return t.time_since_epoch().count(); }

}  // namespace

RequestBody::RequestBody(RequestParser::BodyFraming framing, bool continue_owed)
    : held_(false),
      upgrade_(framing.upgrade),
      chunked_(framing.chunked),
      remaining_(framing.upgrade ? std::numeric_limits<uint64_t>::max() : framing.content_length),
      continue_owed_(continue_owed) {
    // The plugin decides how much it takes; the framing still has to hold.
    if (chunked_) chunks_.reset(std::numeric_limits<uint64_t>::max(), kMaxTrailers);
}

RequestBody::RequestBody(std::string bytes) : held_(true), bytes_(std::move(bytes)), remaining_(bytes_.size()) {}

bool RequestBody::inside_callback() const { return delivering == this; }

kerberus_status RequestBody::start(const kerberus_body_fns& fns, void* user_data) {
    if (fns.struct_size < sizeof(kerberus_body_fns) || fns.on_data == nullptr || fns.on_end == nullptr) {
        return KERBERUS_ERR_INVALID;
    }
    {
        std::lock_guard lock(mutex_);
        if (state_.load() != State::waiting) return KERBERUS_ERR_STATE;
        // The connection failed before: nothing will be delivered.
        if (failure_ != KERBERUS_OK) return KERBERUS_ERR_CLOSED;
        fns_ = fns;
        user_data_ = user_data;
        arriving_.store(true);
        state_.store(State::flowing);
    }
    if (wake_) wake_();
    return KERBERUS_OK;
}

kerberus_status RequestBody::resume() {
    if (inside_callback()) {
        // This thread holds the mutex: a BUSY returned after this is moot.
        if (state_.load() == State::paused) state_.store(State::flowing);
        else if (state_.load() == State::flowing) resume_asked_ = true;
        return state_.load() == State::waiting ? KERBERUS_ERR_STATE : KERBERUS_OK;
    }
    {
        std::lock_guard lock(mutex_);
        State s = state_.load();
        if (s == State::waiting) return KERBERUS_ERR_STATE;
        if (s != State::paused) return KERBERUS_OK;
        arriving_.store(true);
        state_.store(State::flowing);
    }
    if (wake_) wake_();
    return KERBERUS_OK;
}

void RequestBody::stop(bool wait) {
    auto stop_locked = [this] {
        for (State s = state_.load();;) {
            if (s == State::ended || s == State::stopped) return false;
            // An upgrade nobody took up had no body: the connection goes on.
            if (upgrade_ && s == State::waiting) whole_.store(true);
            if (state_.compare_exchange_weak(s, State::stopped)) break;
        }
        if (arriving_.exchange(false)) ended_at_.store(ticks(Clock::now()));
        return true;
    };
    bool stopped;
    if (!wait || inside_callback()) {
        stopped = stop_locked();  // a running callback sees the state after it returns
    } else {
        std::lock_guard lock(mutex_);
        stopped = stop_locked();
    }
    // The connection learns that the rest of the body will not be read.
    if (stopped && !held_ && wake_) wake_();
}

void RequestBody::await_callbacks() {
    if (inside_callback()) return;
    std::lock_guard lock(mutex_);
}

bool RequestBody::finished() const {
    State s = state_.load();
    return s == State::ended || s == State::stopped;
}

bool RequestBody::fully_read() const { return held_ || whole_.load(); }

std::optional<RequestBody::Clock::time_point> RequestBody::deadline_after(std::chrono::milliseconds timeout) const {
    if (arriving_.load()) return Clock::now() + timeout;
    int64_t ended = ended_at_.load();
    if (ended == 0) return std::nullopt;
    return Clock::time_point(Clock::duration(ended)) + timeout;
}

void RequestBody::end_locked(kerberus_status result) {
    // The host may have stopped it meanwhile without the mutex (stop(false)).
    State s = state_.load();
    do {
        if (s != State::flowing && s != State::paused) return;
    } while (!state_.compare_exchange_weak(s, State::ended));
    failure_ = result;
    // After an upgrade the connection never carries HTTP again.
    whole_.store(result == KERBERUS_OK && !upgrade_);
    if (arriving_.exchange(false) || ended_at_.load() == 0) ended_at_.store(ticks(Clock::now()));
    const RequestBody* outer = delivering;
    delivering = this;
    fns_.on_end(user_data_, result);
    delivering = outer;
}

bool RequestBody::deliver_locked(std::string_view piece) {
    resume_asked_ = false;
    const RequestBody* outer = delivering;
    delivering = this;
    kerberus_status wanted = fns_.on_data(user_data_, piece.data(), piece.size());
    delivering = outer;
    if (state_.load() != State::flowing) return false;  // answered meanwhile
    if (wanted == KERBERUS_BUSY && !resume_asked_) {
        // Paused under the mutex: a resume from another thread waits for
        // this and then finds it paused.
        State flowing = State::flowing;
        state_.compare_exchange_strong(flowing, State::paused);
        return false;
    }
    return true;
}

std::size_t RequestBody::feed(std::string_view input) {
    std::lock_guard lock(mutex_);
    if (state_.load() != State::flowing) return 0;
    arriving_.store(true);
    std::size_t pos = 0;
    if (!chunked_) {
        while (remaining_ > 0 && pos < input.size()) {
            std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, input.size() - pos));
            pos += take;
            remaining_ -= take;
            if (!deliver_locked(input.substr(pos - take, take))) break;
        }
        State s = state_.load();
        if (remaining_ == 0 && (s == State::flowing || s == State::paused)) end_locked(KERBERUS_OK);
        return pos;
    }
    auto sink = [](void* self, std::string_view piece) { return static_cast<RequestBody*>(self)->deliver_locked(piece); };
    ChunkedDecoder::Result result = chunks_.decode(input, pos, sink, this);
    State s = state_.load();
    if (s != State::flowing && s != State::paused) return pos;
    if (result == ChunkedDecoder::Result::done) end_locked(KERBERUS_OK);
    if (result == ChunkedDecoder::Result::failed) end_locked(KERBERUS_ERR_INVALID);
    return pos;
}

void RequestBody::feed_held() { bytes_offset_ += feed(std::string_view(bytes_).substr(bytes_offset_)); }

void RequestBody::fail(kerberus_status why) {
    std::lock_guard lock(mutex_);
    State s = state_.load();
    if (s == State::waiting) {
        failure_ = why;
    } else if (s == State::flowing || s == State::paused) {
        // The end of an upgraded connection's input is its body's end.
        end_locked(upgrade_ && why == KERBERUS_ERR_CLOSED ? KERBERUS_OK : why);
    }
}

bool RequestBody::take_continue() {
    if (!continue_owed_ || state_.load() != State::flowing) return false;
    continue_owed_ = false;
    return true;
}

RequestBody::Next RequestBody::next() const {
    switch (state_.load()) {
        case State::flowing: return Next::read;
        case State::waiting:
        case State::paused: return Next::wait;
        default: return Next::done;
    }
}

}  // namespace kerberus::http
