#include "outbound/upload.h"

#include <charconv>

namespace kerberus::outbound {

Upload::Upload(uint64_t length, bool frame_chunks)
    : chunked_(length == static_cast<uint64_t>(KERBERUS_BODY_LENGTH_UNKNOWN)),
      frame_chunks_(chunked_ && frame_chunks),
      length_(chunked_ ? 0 : length) {}

kerberus_status Upload::write(std::string_view data, bool& became_ready) {
    std::lock_guard lock(mutex_);
    became_ready = false;
    if (closed_) return KERBERUS_ERR_NOT_FOUND;
    if (ended_ || (!chunked_ && data.size() > length_ - given_)) return KERBERUS_ERR_INVALID;
    if (data.empty()) return KERBERUS_OK;  // an empty chunk would end the body
    became_ready = waiting_.empty();
    if (frame_chunks_) {
        char size[20];
        auto [end, ec] = std::to_chars(size, size + sizeof size, data.size(), 16);
        (void)ec;
        waiting_.append(size, end).append("\r\n").append(data).append("\r\n");
    } else {
        waiting_.append(data);
    }
    given_ += data.size();
    if (waiting_.size() <= kBusy) return KERBERUS_OK;
    busy_told_ = true;
    return KERBERUS_BUSY;
}

kerberus_status Upload::end(bool& became_ready) {
    std::lock_guard lock(mutex_);
    became_ready = false;
    if (closed_) return KERBERUS_ERR_NOT_FOUND;
    if (ended_) return KERBERUS_ERR_INVALID;
    ended_ = true;
    became_ready = waiting_.empty();
    if (frame_chunks_) waiting_.append("0\r\n\r\n");
    return KERBERUS_OK;
}

Upload::Taken Upload::take(std::string& out, bool& writable) {
    std::lock_guard lock(mutex_);
    writable = false;
    if (!waiting_.empty()) {
        started_ = true;
        if (out.empty()) out.swap(waiting_);
        else out.append(waiting_);
        waiting_.clear();
        if (busy_told_) {
            busy_told_ = false;
            writable = true;
        }
    } else if (!ended_) {
        return Taken::waiting;
    }
    if (!ended_) return Taken::more;
    return !chunked_ && given_ < length_ ? Taken::short_body : Taken::complete;
}

void Upload::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiting_.clear();
    waiting_.shrink_to_fit();
}

}  // namespace kerberus::outbound
