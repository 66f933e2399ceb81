#include "http/stream_events.h"

namespace kerberus::http {
namespace {

// The StreamEvents whose callback this thread is inside.
thread_local const StreamEvents* delivering = nullptr;

}  // namespace

void StreamEvents::deliver(int event) {
    if (callback_ == nullptr) return;
    std::lock_guard lock(mutex_);
    if (ended_ || closed_) return;
    // The client leaving is told once, whichever way it showed first.
    if (event == KERBERUS_STREAM_CLOSED) closed_ = true;
    const StreamEvents* outer = delivering;
    delivering = this;
    callback_(user_data_, request_, event);
    delivering = outer;
}

void StreamEvents::end() {
    if (delivering == this) {
        ended_ = true;  // this thread holds the mutex, inside deliver()
        return;
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
}

}  // namespace kerberus::http
