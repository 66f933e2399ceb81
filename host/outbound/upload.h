// The body of an outbound request given piece by piece (plugin.h
// outbound_body_write, outbound_body_end): the plugin's threads append, the
// engine's thread takes and sends. Framed here (chunked when the length is
// unknown), so both engines send what they take as it is.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "kerberus/plugin.h"

namespace kerberus::outbound {

class Upload {
public:
    // A write past this many waiting bytes returns KERBERUS_BUSY; once at
    // most kWritable wait again, on_body_writable is called.
    static constexpr std::size_t kBusy = 256 * 1024;
    static constexpr std::size_t kWritable = 64 * 1024;

    // `length`: the body's exact length, or KERBERUS_BODY_LENGTH_UNKNOWN.
    // `frame_chunks`: a body of unknown length is framed here (the plain
    // engine); libcurl frames it itself.
    Upload(uint64_t length, bool frame_chunks);

    bool chunked() const { return chunked_; }
    uint64_t length() const { return length_; }

    // --- the plugin's threads ------------------------------------------
    // outbound_body_write and outbound_body_end; `became_ready` is set when
    // the engine must be woken (nothing was waiting before).
    kerberus_status write(std::string_view data, bool& became_ready);
    kerberus_status end(bool& became_ready);

    // --- the engine's thread -------------------------------------------
    enum class Taken { more, waiting, complete, short_body };
    // Appends what waits to `out`. `more`: bytes were taken and the body
    // goes on; `waiting`: nothing to take now; `complete`: the body ended
    // and is all in `out` now; `short_body`: it ended short of its length.
    // `writable`: the writer was told KERBERUS_BUSY and may write again.
    Taken take(std::string& out, bool& writable);
    // The request completed: later writes get KERBERUS_ERR_NOT_FOUND.
    void close();
    // Some body bytes were taken (the request cannot be sent again).
    bool started() const { return started_; }

private:
    std::mutex mutex_;
    const bool chunked_;
    const bool frame_chunks_;
    const uint64_t length_;
    std::string waiting_;
    uint64_t given_ = 0;
    bool ended_ = false;
    bool closed_ = false;
    bool busy_told_ = false;
    bool started_ = false;  // engine thread only
};

}  // namespace kerberus::outbound
