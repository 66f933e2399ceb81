#include "http/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "http/http_connection.h"

namespace kerberus::http {
namespace {

// How long the input after a connection's last answer is read and dropped
// before the socket closes: closing with unread input would reset the
// connection and could destroy the answer before the client read it.
constexpr std::chrono::milliseconds kLinger{5000};

}  // namespace

Server::Server(const config::ServerSettings& settings, Dispatcher& dispatcher, std::shared_ptr<spdlog::logger> log,
               std::string unix_path)
    : settings_(settings),
      dispatcher_(dispatcher),
      log_(std::move(log)),
      unix_path_(std::move(unix_path)),
      limits_(settings.max_connections, settings.max_connections_per_client) {}

std::string Server::url() const {
    if (!unix_path_.empty()) return "unix:" + unix_path_;
    const std::string& host = settings_.listen_host;
    const std::string scheme = tls_ ? "https://" : "http://";
    return scheme + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port_);
}

Server::~Server() { shutdown(); }

void Server::start() {
    const std::string& host = settings_.listen_host;
    std::string address = !unix_path_.empty() ? "unix:" + unix_path_
                                              : (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                                    std::to_string(settings_.listen_port);
    try {
        listener_ = std::make_unique<net::Listener>(host, settings_.listen_port, unix_path_, log_);
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot listen on " + address + ": " + e.what());
    }
    port_ = listener_->port();

    net::Listener* listener = listener_.get();
    net::Timeouts timeouts{settings_.idle_timeout, settings_.header_timeout, kLinger, settings_.body_timeout};
    auto worker = std::make_shared<net::Worker>(
        timeouts, [this](net::Connection&) { return std::make_unique<HttpConnection>(dispatcher_); },
        [this, listener](const std::string& remote) {
            limits_.release(remote);
            listener->descriptor_freed();
        },
        sidecar_, tls_);
    reactor_ = Pistache::Aio::Reactor::create();
    reactor_->init(Pistache::Aio::AsyncContext(settings_.workers, "kerberus-http"));
    auto key = reactor_->addHandler(worker);
    for (const auto& handler : reactor_->handlers(key)) {
        workers_.push_back(std::static_pointer_cast<net::Worker>(handler));
    }
    reactor_->run();
    listener_->start([this](int fd, std::string remote) {
        net::ConnectionLimits::Admission admission = limits_.admit(remote);
        if (admission != net::ConnectionLimits::Admission::admitted) {
            refuse(fd, admission, remote);
            return;
        }
        workers_[next_worker_++ % workers_.size()]->adopt(fd, std::move(remote));
    });
}

void Server::refuse(int fd, net::ConnectionLimits::Admission admission, const std::string& remote) {
    // One try, never blocking the accepting thread: a client that already
    // sent its request may see a reset instead of the answer.
    // Over TLS there is no answering before a handshake, and a handshake
    // here would hold up the accepting thread: the client sees the close.
    if (!tls_) {
        std::string_view answer = net::refusal(admission);
        (void)!::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    ::close(fd);
    auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ >= std::chrono::seconds(10)) {
        last_refusal_log_ = now;
        if (admission == net::ConnectionLimits::Admission::over_total) {
            log_->warn("refusing connections: {} open, server.max_connections is {} (logged at most every 10 s)",
                       limits_.open(), limits_.max_total());
        } else {
            log_->warn("refusing connections from {}: server.max_connections_per_client is {} (logged at most "
                       "every 10 s)",
                       remote, limits_.max_per_client());
        }
    }
}

void Server::stop_accepting() {
    if (listener_) listener_->stop();
}

void Server::shutdown() {
    stop_accepting();
    if (reactor_) {
        reactor_->shutdown();
        reactor_.reset();  // joins the worker threads
    }
    workers_.clear();  // closes every connection
    listener_.reset();
}

}  // namespace kerberus::http
