#include "outbound/http1_engine.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

#include "common/fault_report.h"
#include "outbound/response_parser.h"

namespace kerberus::outbound {
namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr int kMaxEvents = 64;
// Reads in a row on one readable connection before the others get a turn.
constexpr int kReadsPerEvent = 16;
constexpr std::chrono::milliseconds kSweepInterval{1000};

thread_local Http1Engine* current_engine = nullptr;

std::string errno_text(int error) {
    const char* text = strerrordesc_np(error);
    return text ? text : "error " + std::to_string(error);
}

}  // namespace

struct Http1Engine::Exchange {
    uint64_t id = 0;
    kerberus_outbound_done_fn done = nullptr;
    void* user_data = nullptr;
    std::string request;  // the bytes on the wire
    std::string authority;
    std::string host_name;  // empty for an IP literal
    uint16_t port = 0;
    sockaddr_storage address{};
    socklen_t address_len = 0;
    bool head = false;
    bool close_after = false;  // the caller sent "Connection: close"
    // Streamed (outbound_stream): the answer goes out in pieces.
    bool streaming = false;
    kerberus_outbound_stream_fns stream{};
    bool head_delivered = false;
    bool paused = false;
    bool retried = false;
    // A streamed request body (ABI 1.5): what was taken of it and not yet
    // sent, and whether its end went out.
    std::shared_ptr<Upload> upload;
    std::string body_out;
    std::size_t body_sent = 0;
    bool body_last = false;  // body_out holds the end
    bool body_done = false;
    bool upgrade = false;  // KERBERUS_OUTBOUND_UPGRADE
    uint64_t max_bytes = 0;
    std::chrono::milliseconds connect_timeout{0}, total_timeout{0};
    Clock::time_point total_deadline;
    Clock::time_point deadline;  // the earlier of total_deadline and, while connecting, the connect deadline
    std::size_t heap_index = DeadlineHeap<Exchange>::kNowhere;
    Pool* pool = nullptr;
    Connection* connection = nullptr;
    Exchange* prev = nullptr;
    Exchange* next = nullptr;
};

struct Http1Engine::Connection {
    int fd = -1;
    Pool* pool = nullptr;
    Exchange* exchange = nullptr;  // null while idle in the pool
    bool connecting = true;
    bool reused = false;  // carried a whole exchange before
    bool write_interest = false;
    bool read_interest = true;
    bool closed = false;
    // Counts toward the pool's max_connections_per_host; an upgrade's
    // connection does not (it is never pooled, and a tunnel may last hours).
    bool counted = true;
    std::size_t address_index = 0;  // in the pool's addresses
    std::size_t attempts = 0;       // addresses tried for this connection
    std::size_t sent = 0;
    Clock::time_point idle_since;
    ResponseParser parser;
};

struct Http1Engine::Pool {
    std::string authority;
    std::string host_name;  // empty for an IP literal
    uint16_t port = 0;
    // Where to connect: the literal, or what the name resolved to (tried
    // in order from `preferred`, the last that answered).
    std::vector<Address> addresses;
    std::size_t preferred = 0;
    Clock::time_point resolved_until = Clock::time_point::max();
    bool resolving = false;
    std::deque<Exchange*> unresolved;  // waiting for the name to resolve
    std::vector<Connection*> idle;  // the most recently used last: it is the warmest
    std::size_t open = 0;           // connected or connecting
    std::size_t tunnels = 0;        // upgrades' connections, not counted in `open`
    std::deque<Exchange*> waiting;  // for a connection, at max_connections_per_host
};

Http1Engine::Http1Engine(const Settings& settings, Ledger& ledger, Resolver& resolver, bool embedded)
    : settings_(settings), ledger_(ledger), resolver_(&resolver), embedded_(embedded), read_buffer_(new char[kReadBuffer]) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
        std::string why = errno_text(errno);
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
        if (wake_fd_ >= 0) ::close(wake_fd_);
        throw std::runtime_error("outbound client: cannot create its event loop: " + why);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    now_ = Clock::now();
    next_sweep_ = now_ + kSweepInterval;
    if (!embedded_) thread_ = std::thread([this] { run(); });
}

Http1Engine::~Http1Engine() {
    wake();
    if (thread_.joinable()) {
        thread_.join();
    } else {
        run();  // never driven, or its driver is gone: finish here
    }
    for (Connection* c : connections_) {
        ::close(c->fd);
        delete c;
    }
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void Http1Engine::wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
}

kerberus_status Http1Engine::send(Ledger::Owner owner, const kerberus_outbound_request& r, const PlainUrl& url,
                                  kerberus_outbound_done_fn done, void* user_data, uint64_t* id,
                                  const kerberus_outbound_stream_fns* stream, std::shared_ptr<Upload> upload) {
    auto ex = std::make_unique<Exchange>();
    ex->upload = upload;
    ex->upgrade = (r.flags & KERBERUS_OUTBOUND_UPGRADE) != 0;
    std::string_view method(r.method);
    write_request(ex->request, method, url, r);
    ex->done = done;
    ex->user_data = user_data;
    ex->authority = url.authority;
    ex->host_name = url.host_name;
    ex->port = url.port;
    ex->address = url.address;
    ex->address_len = url.address_len;
    ex->head = method == "HEAD";
    ex->close_after = asks_to_close(r);
    ex->max_bytes = r.max_response_bytes ? r.max_response_bytes : settings_.max_response_bytes;
    if (stream != nullptr) {
        ex->streaming = true;
        ex->stream = *stream;
        // A streamed body is not held: only a limit the plugin set applies.
        ex->max_bytes = r.max_response_bytes ? r.max_response_bytes : UINT64_MAX;
    }
    ex->connect_timeout = r.connect_timeout_ms ? std::chrono::milliseconds(r.connect_timeout_ms) : settings_.connect_timeout;
    ex->total_timeout = r.timeout_ms ? std::chrono::milliseconds(r.timeout_ms) : settings_.total_timeout;
    ex->total_deadline = Clock::now() + ex->total_timeout;
    ex->deadline = ex->total_deadline;

    bool must_wake;
    {
        std::lock_guard lock(ledger_.mutex);
        if (!ledger_.admit_locked(owner, ex->id)) return KERBERUS_ERR_STATE;
        if (id) *id = ex->id;
        if (upload) ledger_.uploads.emplace(ex->id, std::move(upload));
        incoming_.push_back(std::move(ex));
        // The driving thread starts what it queued after its batch of
        // events, with no wake-up; one wake-up carries every request other
        // threads queue before the loop takes them.
        if (embedded_ && current_engine == this) {
            queued_here_ = true;
            must_wake = false;
        } else {
            must_wake = !wake_pending_;
            wake_pending_ = true;
        }
    }
    if (must_wake) wake();
    return KERBERUS_OK;
}

void Http1Engine::run() {
    current_engine = this;
    fault_report::prepare_thread();  // plugins' callbacks run here
    epoll_event events[kMaxEvents];
    now_ = Clock::now();
    take_incoming();
    for (;;) {
        if (stopping_ && running_count_ == 0) {
            std::lock_guard lock(ledger_.mutex);
            if (incoming_.empty()) return;
        }
        int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, wait_timeout_ms());
        handle(events, std::max(n, 0));
    }
}

void Http1Engine::handle(const epoll_event* events, int n) {
    now_ = Clock::now();
    bool woken = false;
    for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Connection*>(events[i].data.ptr);
        if (c == nullptr) {
            woken = true;
        } else if (!c->closed) {
            on_event(c, events[i].events);
        }
    }
    if (woken) {
        uint64_t count;
        [[maybe_unused]] ssize_t ignored = ::read(wake_fd_, &count, sizeof count);
        take_incoming();
    }
    expire_deadlines();
    if (now_ >= next_sweep_) {
        close_idle_expired();
        next_sweep_ = now_ + kSweepInterval;
    }
    if (ledger_.any_waiting.load(std::memory_order_relaxed) > 0) give_up_idle();
    for (Connection* c : graveyard_) delete c;
    graveyard_.clear();
    if (wake_others_) {
        wake_others_ = false;
        ledger_.wake_all();
    }
}

Http1Engine* Http1Engine::current() { return current_engine; }

void Http1Engine::attach_to_this_thread() { current_engine = this; }

void Http1Engine::poll() {
    epoll_event events[kMaxEvents];
    int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, 0);
    handle(events, std::max(n, 0));
}

void Http1Engine::after_batch() {
    if (queued_here_) {
        queued_here_ = false;
        now_ = Clock::now();
        take_incoming();
    }
    // Every batch of a worker ends here, proxied or not: with nothing
    // running or idle there are no deadlines to check (and no clock read).
    if (running_count_ == 0 && idle_count_ == 0 && graveyard_.empty() && !wake_others_) return;
    handle(nullptr, 0);
}

void Http1Engine::orphaned() {
    if (current_engine == this) current_engine = nullptr;
    thread_ = std::thread([this] { run(); });
}

int Http1Engine::wait_timeout_ms() const {
    if (stopping_ && running_count_ == 0) return 0;
    Clock::time_point until = Clock::time_point::max();
    if (!deadlines_.empty()) until = deadlines_.top()->deadline;
    if (idle_count_ > 0) until = std::min(until, next_sweep_);
    if (until == Clock::time_point::max()) return -1;
    if (until <= now_) return 0;
    // Rounded up: waking a little early would only spin.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now_).count();
    return static_cast<int>(std::min<long long>(ms, 60'000));
}

void Http1Engine::take_incoming() {
    cancel_ids_.clear();
    {
        std::lock_guard lock(ledger_.mutex);
        taking_.swap(incoming_);
        wake_pending_ = false;
        stopping_ = ledger_.stopping;
        // Cancels of requests not (yet) ours are checked again on the next
        // wake-up; a request's id leaves the set when it finishes.
        for (uint64_t id : ledger_.cancels) cancel_ids_.push_back(id);
        // Resumes are taken by whichever engine runs the request.
        resume_ids_.clear();
        body_ids_.clear();
        for (Exchange* ex = running_; ex != nullptr; ex = ex->next) {
            if (ex->paused && ledger_.resumes.erase(ex->id) > 0) resume_ids_.push_back(ex->id);
            if (ex->upload && ledger_.body_ready.erase(ex->id) > 0) body_ids_.push_back(ex->id);
        }
    }
    for (auto& owned : taking_) {
        Exchange* ex = owned.release();
        start(ex);
    }
    taking_.clear();
    for (uint64_t id : resume_ids_) {
        for (Exchange* ex = running_; ex != nullptr; ex = ex->next) {
            if (ex->id == id) {
                resume(ex);
                break;
            }
        }
    }
    {
        std::vector<std::pair<std::string, Resolved>> answers;
        {
            std::lock_guard lock(ledger_.mutex);
            answers.swap(resolved_);
        }
        for (auto& [authority, answer] : answers) {
            if (auto it = pools_.find(authority); it != pools_.end()) resolved(it->second.get(), answer);
        }
    }
    // Another engine closed a connection to a host this one waits for.
    for (auto& [authority, pool] : pools_) {
        if (!pool->waiting.empty()) pump(pool.get());
    }
    for (uint64_t id : body_ids_) {
        for (Exchange* ex = running_; ex != nullptr; ex = ex->next) {
            if (ex->id != id) continue;
            // Once connected and past the head; otherwise the head's
            // writing gets to the body.
            if (Connection* c = ex->connection; c != nullptr && !c->connecting) write_some(c);
            break;
        }
    }
    for (uint64_t id : cancel_ids_) {
        for (Exchange* ex = running_; ex != nullptr; ex = ex->next) {
            if (ex->id == id) {
                abort(ex, KERBERUS_ERR_CANCELLED, "cancelled");
                break;
            }
        }
    }
}

void Http1Engine::start(Exchange* ex) {
    ex->next = running_;
    if (running_) running_->prev = ex;
    running_ = ex;
    ++running_count_;
    deadlines_.push(ex);

    auto& pool = pools_[ex->authority];
    if (!pool) {
        pool = std::make_unique<Pool>();
        pool->authority = ex->authority;
        pool->host_name = ex->host_name;
        pool->port = ex->port;
        if (ex->host_name.empty()) {
            Address literal;
            literal.storage = ex->address;
            literal.length = ex->address_len;
            pool->addresses.push_back(literal);
        } else {
            pool->resolved_until = Clock::time_point::min();
        }
    }
    ex->pool = pool.get();
    // A request cancelled before it reached the loop still starts here, so
    // take_incoming's cancel pass finds it and ends it without I/O.
    bool cancelled = std::find(cancel_ids_.begin(), cancel_ids_.end(), ex->id) != cancel_ids_.end();
    if (cancelled) return;
    // A name is looked up first (again once its answer is a minute old),
    // unless a connection to it is idle already.
    if (pool->resolving || (now_ >= pool->resolved_until && pool->idle.empty())) {
        pool->unresolved.push_back(ex);
        resolve(pool.get());
        return;
    }
    dispatch(ex);
}

void Http1Engine::resolve(Pool* pool) {
    if (pool->resolving) return;
    pool->resolving = true;
    Resolved cached;
    auto later = [this, authority = pool->authority](const Resolved& answer) {
        {
            std::lock_guard lock(ledger_.mutex);
            resolved_.emplace_back(authority, answer);
        }
        wake();
    };
    if (resolver_->lookup(pool->host_name, pool->port, cached, later)) resolved(pool, cached);
}

void Http1Engine::resolved(Pool* pool, const Resolved& answer) {
    pool->resolving = false;
    std::deque<Exchange*> waiting;
    waiting.swap(pool->unresolved);
    if (answer.addresses.empty()) {
        for (Exchange* ex : waiting) fail(ex, KERBERUS_ERR_UNREACHABLE, answer.error);
        return;
    }
    pool->addresses = answer.addresses;
    pool->preferred = 0;
    pool->resolved_until = now_ + Resolver::kKeep;
    for (Exchange* ex : waiting) dispatch(ex);
}

void Http1Engine::dispatch(Exchange* ex) {
    Pool* pool = ex->pool;
    if (ex->upgrade) {
        open_connection(pool, ex);
        return;
    }
    if (!pool->idle.empty()) {
        Connection* c = pool->idle.back();
        pool->idle.pop_back();
        --idle_count_;
        attach(c, ex);
        write_some(c);
    } else if (reserve_connection(pool)) {
        open_connection(pool, ex);
    } else {
        pool->waiting.push_back(ex);
    }
}

bool Http1Engine::reserve_connection(Pool* pool, bool was_waiting) {
    const auto limit = static_cast<std::size_t>(std::max(1L, settings_.max_connections_per_host));
    std::lock_guard lock(ledger_.mutex);
    Ledger::HostBudget& budget = ledger_.hosts[pool->authority];
    if (budget.open < limit) {
        ++budget.open;
        if (was_waiting) {
            --budget.waiting;
            --ledger_.any_waiting;
        }
        return true;
    }
    if (!was_waiting) {
        ++budget.waiting;
        ++ledger_.any_waiting;
        // Other engines may keep idle connections to this host: they give
        // them up when they see someone waits (take_incoming).
        if (ledger_.wake_all && !ledger_.stopping) wake_others_ = true;
    }
    return false;
}

// Another engine's requests wait for a host this one keeps connections to
// idle: those idle a while go, and the places with them (a connection
// that is reused at once stays, so a busy engine keeps its own).
void Http1Engine::give_up_idle() {
    constexpr std::chrono::milliseconds kUnused{50};
    for (auto& [authority, pool] : pools_) {
        if (pool->idle.empty() || !others_wait_for(pool.get())) continue;
        std::vector<Connection*> unused;
        for (Connection* c : pool->idle)
            if (now_ - c->idle_since >= kUnused) unused.push_back(c);
        for (Connection* c : unused) close_connection(c);
    }
}

bool Http1Engine::others_wait_for(Pool* pool) {
    if (ledger_.any_waiting.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard lock(ledger_.mutex);
    auto it = ledger_.hosts.find(pool->authority);
    return it != ledger_.hosts.end() && it->second.waiting > pool->waiting.size();
}

void Http1Engine::release_connection(Pool* pool) {
    bool wake_others = false;
    {
        std::lock_guard lock(ledger_.mutex);
        auto it = ledger_.hosts.find(pool->authority);
        if (it == ledger_.hosts.end()) return;
        --it->second.open;
        // Requests of this engine's own are pumped by the caller; others'
        // engines must look again.
        // (Not while the client shuts down: the engines are going away.)
        wake_others = it->second.waiting > pool->waiting.size() && !ledger_.stopping;
        if (it->second.open == 0 && it->second.waiting == 0) ledger_.hosts.erase(it);
    }
    if (wake_others && ledger_.wake_all) ledger_.wake_all();
}

// A non-blocking socket connecting to `a`; -1 (and `error`) when that
// failed at once.
int Http1Engine::connect_to(const Address& a, std::string& error) {
    int fd = ::socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno_text(errno);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0 && errno != EINPROGRESS) {
        error = errno_text(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

// Connects `c` to the next of its pool's addresses it has not tried; false
// when none is left.
bool Http1Engine::connect_next(Connection* c, std::string& error) {
    Pool* pool = c->pool;
    const std::size_t n = pool->addresses.size();
    while (c->attempts < n) {
        const std::size_t index = (pool->preferred + c->attempts) % n;
        ++c->attempts;
        int fd = connect_to(pool->addresses[index], error);
        if (fd < 0) continue;
        if (c->fd >= 0) ::close(c->fd);  // also leaves the epoll set
        c->fd = fd;
        c->address_index = index;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.ptr = c;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        return true;
    }
    return false;
}

void Http1Engine::open_connection(Pool* pool, Exchange* ex) {
    auto* c = new Connection;
    c->pool = pool;
    c->write_interest = true;
    c->counted = !ex->upgrade;
    std::string error = "no address";
    if (!connect_next(c, error)) {
        delete c;
        if (!ex->upgrade) release_connection(pool);
        fail(ex, KERBERUS_ERR_UNREACHABLE, "connect to " + pool->authority + ": " + error);
        return;
    }
    connections_.insert(c);
    ++(c->counted ? pool->open : pool->tunnels);
    attach(c, ex);
    // Whether connect() finished at once or not, EPOLLOUT says so.
    ex->deadline = std::min(ex->total_deadline, now_ + ex->connect_timeout);
    deadlines_.update(ex);
}

void Http1Engine::attach(Connection* c, Exchange* ex) {
    c->exchange = ex;
    c->sent = 0;
    c->parser.reset(ex->head, ex->max_bytes, ex->streaming);
    if (ex->upgrade) c->parser.expect_upgrade();
    ex->connection = c;
}

void Http1Engine::set_write_interest(Connection* c, bool want) {
    if (c->write_interest == want) return;
    c->write_interest = want;
    epoll_event ev{};
    ev.events = (c->read_interest ? EPOLLIN | EPOLLRDHUP : 0u) | (want ? EPOLLOUT : 0u);
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void Http1Engine::set_read_interest(Connection* c, bool want) {
    if (c->read_interest == want) return;
    c->read_interest = want;
    epoll_event ev{};
    ev.events = (want ? EPOLLIN | EPOLLRDHUP : 0u) | (c->write_interest ? EPOLLOUT : 0u);
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

bool Http1Engine::deliver(Connection* c) {
    Exchange* ex = c->exchange;
    ResponseParser& parser = c->parser;
    if (!parser.has_head()) return true;
    if (!ex->head_delivered) {
        ex->head_delivered = true;
        headers_scratch_.clear();
        for (const ResponseField& f : parser.fields())
            headers_scratch_.push_back(kerberus_header{{f.name.data(), f.name.size()}, {f.value.data(), f.value.size()}});
        ex->stream.on_head(ex->user_data, parser.status(), headers_scratch_.data(), headers_scratch_.size());
    }
    if (parser.body().empty()) return true;
    kerberus_status wanted = ex->stream.on_body(ex->user_data, parser.body().data(), parser.body().size());
    parser.clear_body();
    // Progress: the timeout counts from the last piece.
    ex->total_deadline = now_ + ex->total_timeout;
    ex->deadline = ex->total_deadline;
    deadlines_.update(ex);
    if (wanted != KERBERUS_BUSY || parser.finished()) return true;
    // Paused: the socket is not read (the upstream's sending stalls in TCP)
    // and no timeout runs until the plugin resumes.
    ex->paused = true;
    set_read_interest(c, false);
    deadlines_.remove(ex);
    return false;
}

void Http1Engine::resume(Exchange* ex) {
    ex->paused = false;
    ex->total_deadline = now_ + ex->total_timeout;
    ex->deadline = ex->total_deadline;
    deadlines_.push(ex);
    if (Connection* c = ex->connection) set_read_interest(c, true);
}

void Http1Engine::on_event(Connection* c, uint32_t events) {
    Exchange* ex = c->exchange;
    if (ex == nullptr) {
        // Idle: the peer closed it, or sent what nobody asked for.
        Pool* pool = c->pool;
        close_connection(c);
        pump(pool);
        return;
    }
    if (c->connecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            // A name may have other addresses (localhost: ::1, then 127.0.0.1).
            std::string why = errno_text(error);
            if (connect_next(c, why)) return;
            abort(ex, KERBERUS_ERR_UNREACHABLE, "connect to " + c->pool->authority + ": " + why);
            return;
        }
        c->connecting = false;
        c->pool->preferred = c->address_index;
        ex->deadline = ex->total_deadline;
        deadlines_.update(ex);
        write_some(c);
        return;
    }
    if (events & EPOLLOUT) {
        write_some(c);
        if (c->closed || c->exchange != ex) return;
    }
    if (ex->paused) {
        // Not reading; only a broken connection (always reported) matters.
        if (events & (EPOLLHUP | EPOLLERR))
            abort(ex, KERBERUS_ERR_UNREACHABLE, "connection to " + c->pool->authority + " lost while paused");
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_some(c);
}

void Http1Engine::write_some(Connection* c) {
    const std::string& out = c->exchange->request;
    if (c->sent >= out.size()) {
        if (c->exchange->upload) write_body(c);
        else set_write_interest(c, false);
        return;
    }
    while (c->sent < out.size()) {
        ssize_t n = ::send(c->fd, out.data() + c->sent, out.size() - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_write_interest(c, true);
            return;
        } else {
            int error = errno;
            if (retry_on_fresh(c)) return;
            abort(c->exchange, KERBERUS_ERR_UNREACHABLE, "send to " + c->pool->authority + ": " + errno_text(error));
            return;
        }
    }
    if (c->exchange->upload) {
        write_body(c);
        return;
    }
    set_write_interest(c, false);
}

void Http1Engine::write_body(Connection* c) {
    Exchange* ex = c->exchange;
    while (!ex->body_done) {
        if (ex->body_sent == ex->body_out.size()) {
            if (ex->body_last) {
                ex->body_done = true;
                // An upgraded connection's end of data is the end of its
                // sending side; the upstream closes when it is done.
                if (ex->upgrade) ::shutdown(c->fd, SHUT_WR);
                break;
            }
            ex->body_out.clear();
            ex->body_sent = 0;
            bool writable = false;
            Upload::Taken taken = ex->upload->take(ex->body_out, writable);
            if (taken == Upload::Taken::short_body) {
                abort(ex, KERBERUS_ERR_INVALID, "the request body ended before the length stated for it");
                return;
            }
            if (taken == Upload::Taken::complete) ex->body_last = true;
            // The callback only queues (writes, cancels): the exchange stays.
            if (writable) ex->stream.on_body_writable(ex->user_data);
            if (taken == Upload::Taken::waiting) break;  // body_ready wakes the loop
            continue;
        }
        ssize_t n = ::send(c->fd, ex->body_out.data() + ex->body_sent, ex->body_out.size() - ex->body_sent, MSG_NOSIGNAL);
        if (n > 0) {
            ex->body_sent += static_cast<std::size_t>(n);
            // Progress: the timeout counts from the last piece, either way.
            if (!ex->paused) {
                ex->total_deadline = now_ + ex->total_timeout;
                ex->deadline = ex->total_deadline;
                deadlines_.update(ex);
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_write_interest(c, true);
            return;
        } else {
            // The upstream stopped reading the body; an answer it sent
            // before (a 413, say) is still read.
            ex->body_done = true;
            break;
        }
    }
    set_write_interest(c, false);
}

void Http1Engine::read_some(Connection* c) {
    for (int round = 0; round < kReadsPerEvent; ++round) {
        ssize_t n = ::recv(c->fd, read_buffer_.get(), kReadBuffer, 0);
        if (n > 0) {
            std::size_t used = c->parser.feed(read_buffer_.get(), static_cast<std::size_t>(n));
            bool go_on = !c->exchange->streaming || deliver(c);
            if (c->parser.finished()) {
                complete(c, used < static_cast<std::size_t>(n));
                return;
            }
            if (!go_on) return;
            if (static_cast<std::size_t>(n) < kReadBuffer) return;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        int error = n < 0 ? errno : 0;
        if (!c->parser.started() && retry_on_fresh(c)) return;
        if (error != 0) {
            abort(c->exchange, KERBERUS_ERR_UNREACHABLE, "recv from " + c->pool->authority + ": " + errno_text(error));
            return;
        }
        c->parser.eof();
        if (c->exchange->streaming) deliver(c);
        complete(c, false);
        return;
    }
}

void Http1Engine::complete(Connection* c, bool leftover) {
    Exchange* ex = c->exchange;
    const ResponseParser& parser = c->parser;
    if (parser.state() == ResponseParser::State::too_large) {
        abort(ex, KERBERUS_ERR_TOO_LARGE, parser.error());
        return;
    }
    if (parser.state() != ResponseParser::State::done) {
        abort(ex, KERBERUS_ERR_UNREACHABLE, "malformed response from " + c->pool->authority + ": " + parser.error());
        return;
    }
    headers_scratch_.clear();
    for (const ResponseField& f : parser.fields())
        headers_scratch_.push_back(kerberus_header{{f.name.data(), f.name.size()}, {f.value.data(), f.value.size()}});
    kerberus_outbound_response response{};
    response.struct_size = sizeof(response);
    response.result = KERBERUS_OK;
    response.status = parser.status();
    response.headers = headers_scratch_.data();
    response.header_count = headers_scratch_.size();
    // Streamed: every piece went to on_body already.
    response.body = ex->streaming ? kerberus_str{"", 0} : kerberus_str{parser.body().data(), parser.body().size()};
    response.error = "";
    const bool reusable = parser.reusable() && !leftover && !ex->close_after && (!ex->upload || ex->body_done);
    c->exchange = nullptr;
    ex->connection = nullptr;
    finish(ex, response);
    c->reused = true;
    if (reusable) {
        release(c);
    } else {
        Pool* pool = c->pool;
        close_connection(c);
        pump(pool);
    }
}

bool Http1Engine::retry_on_fresh(Connection* c) {
    Exchange* ex = c->exchange;
    if (!c->reused || ex->retried || stopping_ || (ex->upload && ex->upload->started())) return false;
    ex->retried = true;
    Pool* pool = c->pool;
    c->exchange = nullptr;
    ex->connection = nullptr;
    close_connection(c);
    open_connection(pool, ex);
    return true;
}

void Http1Engine::release(Connection* c) {
    Pool* pool = c->pool;
    if (!pool->waiting.empty()) {
        Exchange* next = pool->waiting.front();
        pool->waiting.pop_front();
        unwait(pool);
        attach(c, next);
        write_some(c);
        return;
    }
    if (stopping_ || idle_count_ >= static_cast<std::size_t>(std::max(0L, settings_.max_cached_connections))) {
        close_connection(c);
        return;
    }
    c->idle_since = now_;
    pool->idle.push_back(c);
    ++idle_count_;
}

void Http1Engine::close_connection(Connection* c) {
    if (c->exchange == nullptr) {
        auto& idle = c->pool->idle;
        if (auto it = std::find(idle.begin(), idle.end(), c); it != idle.end()) {
            idle.erase(it);
            --idle_count_;
        }
    }
    ::close(c->fd);  // also leaves the epoll set: the descriptor is not shared
    c->closed = true;
    --(c->counted ? c->pool->open : c->pool->tunnels);
    if (c->counted) release_connection(c->pool);
    connections_.erase(c);
    graveyard_.push_back(c);
}

void Http1Engine::pump(Pool* pool) {
    while (!pool->waiting.empty()) {
        Exchange* ex = pool->waiting.front();
        if (!pool->idle.empty()) {
            pool->waiting.pop_front();
            unwait(pool);
            dispatch(ex);
        } else if (reserve_connection(pool, true)) {
            pool->waiting.pop_front();
            open_connection(pool, ex);
        } else {
            return;
        }
    }
}

void Http1Engine::unwait(Pool* pool) {
    std::lock_guard lock(ledger_.mutex);
    auto it = ledger_.hosts.find(pool->authority);
    if (it != ledger_.hosts.end() && it->second.waiting > 0) {
        --it->second.waiting;
        --ledger_.any_waiting;
    }
}

// Ends an exchange wherever it is: waiting, connecting or mid-exchange (its
// connection cannot carry anything else then).
void Http1Engine::abort(Exchange* ex, kerberus_status result, const std::string& error) {
    Pool* pool = ex->pool;
    if (Connection* c = ex->connection) {
        c->exchange = nullptr;
        ex->connection = nullptr;
        close_connection(c);
    } else if (auto it = std::find(pool->waiting.begin(), pool->waiting.end(), ex); it != pool->waiting.end()) {
        pool->waiting.erase(it);
        unwait(pool);
    } else if (auto u = std::find(pool->unresolved.begin(), pool->unresolved.end(), ex); u != pool->unresolved.end()) {
        pool->unresolved.erase(u);
    }
    fail(ex, result, error);
    pump(pool);
}

void Http1Engine::fail(Exchange* ex, kerberus_status result, const std::string& error) {
    kerberus_outbound_response response{};
    response.struct_size = sizeof(response);
    response.result = result;
    response.body = kerberus_str{"", 0};
    response.error = error.c_str();
    finish(ex, response);
}

void Http1Engine::finish(Exchange* ex, const kerberus_outbound_response& response) {
    deadlines_.remove(ex);
    if (ex->prev) ex->prev->next = ex->next;
    if (ex->next) ex->next->prev = ex->prev;
    if (running_ == ex) running_ = ex->next;
    --running_count_;
    ex->done(ex->user_data, &response);
    ledger_.finished(ex->id);
    delete ex;
}

void Http1Engine::expire_deadlines() {
    while (!deadlines_.empty() && deadlines_.top()->deadline <= now_) {
        Exchange* ex = deadlines_.top();
        bool connecting = ex->connection && ex->connection->connecting && now_ < ex->total_deadline;
        std::string error = connecting ? "connect to " + ex->pool->authority + " timed out after " +
                                             std::to_string(ex->connect_timeout.count()) + " ms"
                                       : "request to " + ex->pool->authority + " timed out after " +
                                             std::to_string(ex->total_timeout.count()) + " ms";
        abort(ex, KERBERUS_ERR_TIMEOUT, error);
    }
}

void Http1Engine::close_idle_expired() {
    for (auto it = pools_.begin(); it != pools_.end();) {
        Pool* pool = it->second.get();
        std::vector<Connection*> expired;
        for (Connection* c : pool->idle)
            if (now_ - c->idle_since >= settings_.idle_timeout) expired.push_back(c);
        for (Connection* c : expired) close_connection(c);
        // A pool nobody uses any more is forgotten; it costs nothing to recreate.
        if (pool->open == 0 && pool->tunnels == 0 && pool->waiting.empty() && !pool->resolving) {
            it = pools_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace kerberus::outbound
