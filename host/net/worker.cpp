#include "net/worker.h"

#include <cerrno>
#include <cstdint>
#include <new>
#include <stdexcept>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/fault_report.h"
#include "tls/acceptor.h"

namespace kerberus::net {
namespace {

using Pistache::Polling::NotifyOn;
using Pistache::Polling::Tag;

// Connections are tagged by their address; the two descriptors of the
// worker itself by these, which no object can have.
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kTimerTag = 2;
constexpr uint64_t kSidecarTag = 3;

// Deadlines are checked this often: timeouts are seconds, and a tick
// costs one wake-up of a thread that has connections.
constexpr auto kTick = std::chrono::milliseconds(100);

// One read takes at most this much: large enough that a body arrives in
// few reads, small enough to stay in cache.
constexpr std::size_t kReadBuffer = 64 * 1024;

thread_local Worker* current_worker = nullptr;

}  // namespace

Worker::Worker(Timeouts timeouts, ProtocolFactory factory, DescriptorFreed descriptor_freed,
               SidecarFactory sidecar, std::shared_ptr<const tls::Acceptor> tls)
    : timeouts_(timeouts),
      factory_(std::move(factory)),
      descriptor_freed_(std::move(descriptor_freed)),
      sidecar_factory_(std::move(sidecar)),
      tls_(std::move(tls)) {}

Worker::~Worker() {
    {
        std::lock_guard lock(mailbox_mutex_);
        stopped_ = true;
        mailbox_.clear();
    }
    // The thread is gone; writers on other threads may still hold
    // connections, and learn from open_ that the descriptor is closed.
    for (auto& [raw, connection] : connections_) {
        std::lock_guard lock(connection->write_mutex_);
        if (connection->open_) ::close(connection->fd_);
        connection->open_ = false;
        connection->queued_.clear();
        connection->queued_bytes_ = 0;
    }
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (sidecar_) sidecar_->orphaned();
}

std::shared_ptr<Pistache::Aio::Handler> Worker::clone() const {
    return std::make_shared<Worker>(timeouts_, factory_, descriptor_freed_, sidecar_factory_, tls_);
}

void Worker::start_sidecar() {
    if (!sidecar_factory_) return;
    sidecar_ = sidecar_factory_();
    if (!sidecar_) return;
    try {
        poller_->addFd(sidecar_->descriptor(), Pistache::Flags<NotifyOn>(NotifyOn::Read), Tag(kSidecarTag));
    } catch (const std::exception&) {
        sidecar_->orphaned();  // it runs on a thread of its own instead
        sidecar_.reset();
    }
}

void Worker::registerPoller(Pistache::Polling::Epoll& poller) {
    poller_ = &poller;
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (wake_fd_ < 0 || timer_fd_ < 0) throw std::runtime_error("cannot create the worker's event descriptors");
    poller.addFd(wake_fd_, Pistache::Flags<NotifyOn>(NotifyOn::Read), Tag(kWakeTag));
    poller.addFd(timer_fd_, Pistache::Flags<NotifyOn>(NotifyOn::Read), Tag(kTimerTag));
    read_buffer_ = std::make_unique<char[]>(kReadBuffer);
    // Made here, so that its descriptors exist from the start like the
    // worker's own.
    start_sidecar();
}

void Worker::post(std::function<void()> task) {
    bool wake;
    {
        std::lock_guard lock(mailbox_mutex_);
        if (stopped_) return;
        wake = mailbox_.empty();
        mailbox_.push_back(std::move(task));
    }
    if (wake) {
        uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
    }
}

void Worker::adopt(int fd, std::string remote) {
    post([this, fd, remote = std::move(remote)]() mutable {
        auto c = std::make_shared<Connection>(fd, std::move(remote), *this);
        c->set_protocol(factory_(*c));
        if (tls_) {
            try {
                c->set_tls(tls_->start());
            } catch (const std::bad_alloc&) {
                return;  // the connection closes with `c`
            }
        }
        try {
            poller_->addFd(fd, Pistache::Flags<NotifyOn>(NotifyOn::Read), Tag(reinterpret_cast<uint64_t>(c.get())));
        } catch (const std::exception&) {
            return;  // the connection closes with `c`
        }
        if (connections_.empty()) set_ticking(true);
        // A handshake is a request's head in all but name: it gets the
        // same deadline.
        append(*c, tls_ ? Phase::receiving : Phase::idle);
        connections_.emplace(c.get(), std::move(c));
    });
}

void Worker::onReady(const Pistache::Aio::FdSet& fds) {
    if (current_worker != this) {
        current_worker = this;
        fault_report::prepare_thread();  // plugin handlers run on this thread
        if (sidecar_) sidecar_->on_thread();
    }
    now_ = Clock::now();
    for (const auto& entry : fds) {
        uint64_t tag = entry.getTag().value();
        if (tag == kWakeTag) {
            run_mailbox();
        } else if (tag == kTimerTag) {
            uint64_t ticks;
            (void)!::read(timer_fd_, &ticks, sizeof ticks);
            expire_deadlines();
            if (!wants_tick()) set_ticking(false);
        } else if (tag == kSidecarTag) {
            sidecar_->on_ready();
        } else {
            bool readable = entry.isReadable();
            bool writable = entry.isWritable();
            on_event(*reinterpret_cast<Connection*>(tag), readable, writable, entry.isHangup());
        }
    }
    // Answers finished during the batch; then what was closed in it can go
    // (no event of this batch can name it any more).
    while (!to_finish_.empty()) {
        auto finished = std::move(to_finish_);
        to_finish_.clear();
        for (auto& c : finished) finish(*c);
    }
    closed_.clear();
    if (sidecar_) {
        sidecar_->after_batch();
        if (sidecar_->needs_tick()) set_ticking(true);
    }
}

void Worker::on_event(Connection& c, bool readable, bool writable, bool hangup) {
    if (c.gone_) return;
    if (writable) on_writable(c);
    // An error alone comes without a flag Pistache maps: a read finds it.
    if (!c.gone_ && (readable || (!writable && !hangup))) on_readable(c);
    if (!c.gone_ && hangup) close_now(c);
}

void Worker::on_readable(Connection& c) {
    ssize_t n = ::recv(c.fd_, read_buffer_.get(), kReadBuffer, 0);
    if (n > 0) {
        if (c.phase_ == Phase::lingering) return;
        if (c.tls_) [[unlikely]] {
            on_tls_input(c, std::string_view(read_buffer_.get(), n));
            return;
        }
        c.protocol_->on_data(c, std::string_view(read_buffer_.get(), n));
        return;
    }
    if (n == 0) {
        on_end_of_input(c);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close_now(c);
    }
}

void Worker::on_tls_input(Connection& c, std::string_view cipher) {
    tls_plain_.clear();
    tls::Session::Outcome outcome;
    std::string why;
    const bool was_established = c.tls_established_;
    {
        // Writers on other threads use the same session.
        std::lock_guard lock(c.write_mutex_);
        if (!c.open_ || c.tls_->failed()) return;
        std::string out;
        outcome = c.tls_->receive(cipher, tls_plain_, out);
        // On failure the alert goes out as the last bytes, and the
        // connection lingers then closes as after any last answer.
        const bool failed = outcome == tls::Session::Outcome::failed;
        if (!out.empty() || failed) c.send_locked(out, failed);
        if (failed) why = c.tls_->failure();
        if (!was_established) c.tls_established_ = c.tls_->established();
    }
    if (outcome == tls::Session::Outcome::failed) {
        if (was_established) tls_->session_failed(c.remote(), why);
        else tls_->handshake_failed(c.remote(), why);
        return;
    }
    // Handshake done, no request yet: the connection waits like any other.
    if (!was_established && c.tls_established_ && tls_plain_.empty()) enter_phase(c, Phase::idle);
    // The protocol writes (under the write mutex) while it reads this.
    if (!tls_plain_.empty()) c.protocol_->on_data(c, tls_plain_);
    if (outcome == tls::Session::Outcome::peer_closed && !c.gone_) on_end_of_input(c);
}

void Worker::on_writable(Connection& c) {
    bool ok;
    bool drained = false;
    {
        std::lock_guard lock(c.write_mutex_);
        ok = c.flush_locked();
        if (ok && c.drain_watched_ && c.queued_bytes_ <= Connection::kDrainedBytes) {
            c.drain_watched_ = false;
            drained = true;
        }
    }
    if (!ok) {
        close_now(c);
        return;
    }
    if (c.phase_ == Phase::idle) enter_phase(c, Phase::idle);  // the client is reading: not idle
    if (drained) c.protocol_->on_drained(c);
}

void Worker::on_end_of_input(Connection& c) {
    if (c.input_ended_) return;
    c.input_ended_ = true;
    if (c.phase_ == Phase::lingering) {
        close_now(c);
        return;
    }
    {
        // The end of the input stays readable: stop asking.
        std::lock_guard lock(c.write_mutex_);
        c.want_read_ = false;
        c.update_interest_locked();
    }
    if (c.protocol_->on_end_of_input(c)) close_now(c);
}

void Worker::finish(Connection& c) {
    if (c.gone_) return;
    if (c.input_ended_) {
        close_now(c);
    } else if (c.phase_ != Phase::lingering) {
        enter_phase(c, Phase::lingering);
    }
}

void Worker::close_now(Connection& c) {
    {
        std::lock_guard lock(c.write_mutex_);
        c.open_ = false;
        c.queued_.clear();
        c.queued_bytes_ = 0;
    }
    try {
        poller_->removeFd(c.fd_);
    } catch (const std::exception&) {
        // Not registered: nothing to remove.
    }
    ::close(c.fd_);
    c.gone_ = true;
    if (c.protocol_) c.protocol_->on_closed(c);
    unlink(c);
    auto it = connections_.find(&c);
    if (it != connections_.end()) {
        closed_.push_back(std::move(it->second));
        connections_.erase(it);
    }
    if (!wants_tick()) set_ticking(false);
    if (descriptor_freed_) descriptor_freed_(c.remote());
}

void Worker::run_mailbox() {
    uint64_t count;
    (void)!::read(wake_fd_, &count, sizeof count);
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(mailbox_mutex_);
        tasks.swap(mailbox_);
    }
    for (auto& task : tasks) task();
}

void Worker::set_interest(Connection& c, bool read, bool write) {
    if (!c.open_ || poller_ == nullptr) return;
    Pistache::Flags<NotifyOn> interest;
    if (read) interest.setFlag(NotifyOn::Read);
    if (write) interest.setFlag(NotifyOn::Write);
    try {
        poller_->rearmFd(c.fd_, interest, Tag(reinterpret_cast<uint64_t>(&c)));
    } catch (const std::exception&) {
        // Not registered yet or any more: its worker decides its fate.
    }
}

void Worker::schedule_finish(Connection& c) {
    if (current_worker == this) {
        to_finish_.push_back(c.shared_from_this());
    } else {
        post([this, keep = c.shared_from_this()] { finish(*keep); });
    }
}

// ------------------------------------------------------------ deadlines

void Worker::expire_deadlines() {
    for (List& list : lists_) {
        while (list.head != nullptr && list.head->deadline_ <= now_) expire(*list.head);
    }
}

void Worker::expire(Connection& c) {
    if (c.phase_ == Phase::lingering) {
        close_now(c);
        return;
    }
    // No plaintext can be said before the handshake: no 408 either.
    if (c.tls_ && !c.tls_established_) {
        tls_->handshake_failed(c.remote(), "not finished within server.header_timeout");
        close_now(c);
        return;
    }
    bool stalled;
    {
        std::lock_guard lock(c.write_mutex_);
        stalled = !c.queued_.empty();
    }
    // An answer the client read nothing of for a whole timeout.
    if (stalled) {
        close_now(c);
        return;
    }
    Phase phase = c.phase_;
    bool keep = c.protocol_->on_timeout(c, phase);
    if (c.gone_) return;
    if (keep) {
        // A new deadline in whatever phase the protocol left it in.
        Phase now = c.phase_;
        unlink(c);
        append(c, now);
        return;
    }
    bool closing;
    {
        std::lock_guard lock(c.write_mutex_);
        closing = c.closing_;
    }
    // A closing answer was written: it finishes the connection; lingering
    // bounds how long that may take.
    if (closing) {
        if (c.phase_ != Phase::lingering) enter_phase(c, Phase::lingering);
    } else {
        close_now(c);
    }
}

void Worker::enter_phase(Connection& c, Phase phase, bool restart) {
    if (c.gone_ || (phase == c.phase_ && phase != Phase::idle && !restart)) return;
    unlink(c);
    append(c, phase);
}

Worker::List& Worker::list_for(Phase phase) { return lists_[static_cast<int>(phase)]; }

std::chrono::milliseconds Worker::timeout_for(Phase phase) const {
    switch (phase) {
        case Phase::idle: return timeouts_.idle;
        case Phase::receiving: return timeouts_.request;
        case Phase::lingering: return timeouts_.linger;
        case Phase::body: return timeouts_.body;
    }
    return timeouts_.idle;
}

void Worker::unlink(Connection& c) {
    List& list = list_for(c.phase_);
    if (c.prev_ != nullptr) c.prev_->next_ = c.next_;
    else if (list.head == &c) list.head = c.next_;
    if (c.next_ != nullptr) c.next_->prev_ = c.prev_;
    else if (list.tail == &c) list.tail = c.prev_;
    c.prev_ = c.next_ = nullptr;
}

void Worker::append(Connection& c, Phase phase) {
    c.phase_ = phase;
    c.deadline_ = now_ + timeout_for(phase);
    List& list = list_for(phase);
    c.prev_ = list.tail;
    c.next_ = nullptr;
    if (list.tail != nullptr) list.tail->next_ = &c;
    else list.head = &c;
    list.tail = &c;
}

void Worker::set_ticking(bool on) {
    if (on == ticking_) return;
    ticking_ = on;
    itimerspec spec{};
    if (on) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(kTick).count();
        spec.it_interval.tv_nsec = ns;
        spec.it_value.tv_nsec = ns;
    }
    ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
}

}  // namespace kerberus::net
