#include "net/listener.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace kerberus::net {
namespace {

// Per wake-up, so one busy listener cannot starve the rest of its loop.
constexpr int kAcceptsPerWakeup = 64;
// While paused, the socket is tried again this often even if no connection
// of ours closed (descriptors may free elsewhere in the process).
constexpr int kPausedRetryMs = 1000;
// The pause warning is repeated at most this often.
constexpr auto kWarningInterval = std::chrono::seconds(60);

std::string address_text(const sockaddr_storage& addr) {
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof text);
    } else if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof text);
    } else if (addr.ss_family == AF_UNIX) {
        return "unix";
    }
    return text;
}

uint16_t bound_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port);
    return 0;
}

// One socket bound to the first address `host` resolves to.
int bind_and_listen(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error(gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
    std::string error = "no address to bind";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            error = std::strerror(errno);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) return fd;
        error = std::strerror(errno);
        ::close(fd);
    }
    throw std::runtime_error(error);
}

// A Unix socket at `path`, reachable by its owner and group only.
int bind_unix(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(path + " exists and is not a socket");
        ::unlink(path.c_str());  // left behind by a daemon that did not stop cleanly
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::strerror(errno));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0660) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        throw std::runtime_error(why);
    }
    return fd;
}

}  // namespace

Listener::Listener(const std::string& host, uint16_t port, const std::string& unix_path,
                   std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)), unix_path_(unix_path) {
    fd_ = unix_path.empty() ? bind_and_listen(host, port) : bind_unix(unix_path);
    port_ = bound_port(fd_);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
        std::string why = std::strerror(errno);
        for (int fd : {fd_, epoll_fd_, wake_fd_}) {
            if (fd >= 0) ::close(fd);
        }
        throw std::runtime_error(why);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    ev.data.fd = fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev);
}

Listener::~Listener() {
    stop();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
}

void Listener::start(Accept accept) {
    accept_ = std::move(accept);
    thread_ = std::thread([this] { run(); });
}

void Listener::stop() {
    if (thread_.joinable()) {
        stopping_.store(true);
        uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
        thread_.join();
    }
    if (fd_ >= 0) {
        ::close(fd_);
        if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    }
    fd_ = -1;
}

void Listener::descriptor_freed() {
    if (!paused_.load(std::memory_order_relaxed)) return;
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
}

void Listener::run() {
    pthread_setname_np(pthread_self(), "kerberus-accept");
    epoll_event events[2];
    while (!stopping_.load()) {
        int n = ::epoll_wait(epoll_fd_, events, 2, paused_.load() ? kPausedRetryMs : -1);
        if (n < 0 && errno != EINTR) {
            log_->error("waiting for connections failed: {}", std::strerror(errno));
            return;
        }
        if (stopping_.load()) return;
        bool woken = false;
        bool acceptable = false;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.fd == wake_fd_) woken = true;
            else acceptable = true;
        }
        if (woken) {
            uint64_t count;
            (void)!::read(wake_fd_, &count, sizeof count);
        }
        // Accepting once more right after resuming tells whether clients
        // still wait (or the limit is still reached) even when none queued
        // meanwhile.
        if (paused_.load() && (woken || n == 0)) resume();
        if (acceptable || woken || n == 0) accept_ready();
    }
}

void Listener::accept_ready() {
    for (int i = 0; i < kAcceptsPerWakeup && !paused_.load(); ++i) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
                case EAGAIN:
                    caught_up();
                    return;
                case EMFILE:
                case ENFILE:
                case ENOBUFS:
                case ENOMEM: pause(errno); return;
                case EINTR:
                case ECONNABORTED:
                case EPROTO:
                case EPERM: continue;  // that connection is gone; others may wait
                default:
                    log_->error("accepting a connection failed: {}", std::strerror(errno));
                    return;
            }
        }
        // An answer is written whole, at once: Nagle's algorithm would only
        // hold back its last segment until the client's delayed ACK.
        int one = 1;
        if (addr.ss_family != AF_UNIX) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        accept_(fd, address_text(addr));
    }
}

// Under load at the limit, accepting pauses and resumes with every
// connection that closes; what an operator needs is one line when it
// starts (at most one a minute) and one when every waiting client got in.
void Listener::pause(int error) {
    paused_.store(true);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
    if (limited_) return;
    limited_ = true;
    limited_since_ = std::chrono::steady_clock::now();
    if (last_warning_ != std::chrono::steady_clock::time_point{} && limited_since_ - last_warning_ < kWarningInterval) {
        ++unreported_;
        return;
    }
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    std::string again =
        unreported_ == 0 ? std::string() : " (" + std::to_string(unreported_) + " more times since the last message)";
    log_->warn(
        "not accepting connections: {}; the limit is {} open descriptors (LimitNOFILE= in the systemd unit); "
        "clients wait until a connection closes{}",
        std::strerror(error), limit.rlim_cur, again);
    last_warning_ = limited_since_;
    unreported_ = 0;
}

void Listener::resume() {
    paused_.store(false);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev);
}

void Listener::caught_up() {
    if (!limited_) return;
    limited_ = false;
    if (last_warning_ != limited_since_) return;  // this episode was not reported
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - limited_since_);
    log_->info("accepting connections again: every waiting client was accepted after {} ms at the descriptor limit",
               waited.count());
}

}  // namespace kerberus::net
