#include "net/connection.h"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

#include "net/worker.h"
#include "tls/session.h"

namespace kerberus::net {
namespace {

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

}  // namespace

Connection::Connection(int fd, std::string remote, Worker& worker)
    : fd_(fd), remote_(std::move(remote)), worker_(worker) {}

Connection::~Connection() {
    // Closed by its worker in all but one case: the worker was destroyed
    // with the server while others still held the connection.
    if (open_) ::close(fd_);
}

void Connection::set_tls(std::unique_ptr<tls::Session> session) { tls_ = std::move(session); }

void Connection::write_tls_locked(std::string& bytes, bool close) {
    if (!open_ || closing_) return;
    // Reused by the thread's writes: most go out whole at once and leave
    // it with its capacity.
    thread_local std::string cipher;
    cipher.clear();
    // A session that failed can send nothing more: what was to be said is
    // lost either way, and the connection can only end.
    if (!bytes.empty() && !tls_->send(bytes, cipher)) close = true;
    if (close) tls_->close(cipher);
    send_locked(cipher, close);
}

void Connection::send_locked(std::string& bytes, bool close) {
    if (!open_ || closing_) return;
    closing_ = close;
    if (bytes.empty()) {
        if (close && queued_.empty()) end_output_locked();
        return;
    }
    std::size_t sent = 0;
    if (queued_.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(bytes.size())) {
            if (close) end_output_locked();
            return;
        }
        // A broken socket is the worker's to notice: its next event on it
        // is an error or the end of the input.
        if (n < 0 && !would_block(errno)) return;
        sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    if (sent > 0) bytes.erase(0, sent);
    queued_bytes_ += bytes.size();
    queued_.push_back(std::move(bytes));
    if (!want_write_) {
        want_write_ = true;
        update_interest_locked();
    }
}

bool Connection::flush_locked() {
    while (!queued_.empty()) {
        const std::string& front = queued_.front();
        ssize_t n = ::send(fd_, front.data() + queued_offset_, front.size() - queued_offset_,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (would_block(errno)) return true;
            return false;
        }
        queued_offset_ += static_cast<std::size_t>(n);
        queued_bytes_ -= static_cast<std::size_t>(n);
        if (queued_offset_ < front.size()) return true;
        queued_.pop_front();
        queued_offset_ = 0;
    }
    want_write_ = false;
    update_interest_locked();
    if (closing_ && !output_ended_) end_output_locked();
    return true;
}

void Connection::watch_drain_locked() {
    drain_watched_ = true;
    if (!want_write_) {
        // Nothing queued: the next writable event reports it.
        want_write_ = true;
        update_interest_locked();
    }
}

void Connection::update_interest_locked() { worker_.set_interest(*this, want_read_, want_write_); }

void Connection::end_output_locked() {
    output_ended_ = true;
    // The client reads to the end of the answer and sees the end of the
    // connection; a close() now could reset it while the answer is in
    // flight, if more input arrives.
    ::shutdown(fd_, SHUT_WR);
    worker_.schedule_finish(*this);
}

void Connection::post(std::function<void()> task) { worker_.post(std::move(task)); }

void Connection::set_reading(bool on) {
    std::lock_guard lock(write_mutex_);
    on = on && !input_ended_;
    if (want_read_ == on) return;
    want_read_ = on;
    update_interest_locked();
}

void Connection::set_phase(Phase phase, bool restart) { worker_.enter_phase(*this, phase, restart); }

}  // namespace kerberus::net
