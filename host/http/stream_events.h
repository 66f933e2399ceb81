// Delivery of a streamed response's events (KERBERUS_STREAM_WRITABLE,
// KERBERUS_STREAM_CLOSED) to the plugin's callback, with plugin.h's promise:
// never after response_end returned.
//
// The connection's worker delivers; the plugin ends from any thread, or
// from inside the callback. A mutex held across each delivery makes an end
// from another thread wait for a callback in progress; an end from inside
// the callback is recognised by the thread it runs on and does not wait.
#pragma once

#include <mutex>

#include "kerberus/plugin.h"

namespace kerberus::http {

class StreamEvents {
public:
    StreamEvents(kerberus_stream_event_fn callback, void* user_data, kerberus_request* request)
        : callback_(callback), user_data_(user_data), request_(request) {}

    // The worker thread: calls the callback unless the stream has ended.
    void deliver(int event);
    // Any thread: no callback starts after this returns, and none is
    // running then unless this is called from inside it.
    void end();

private:
    const kerberus_stream_event_fn callback_;
    void* const user_data_;
    kerberus_request* const request_;
    std::mutex mutex_;
    bool ended_ = false;   // under mutex_
    bool closed_ = false;  // under mutex_: KERBERUS_STREAM_CLOSED was delivered
};

}  // namespace kerberus::http
