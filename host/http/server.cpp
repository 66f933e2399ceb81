#include "http/server.h"

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
    : settings_(settings), dispatcher_(dispatcher), log_(std::move(log)), unix_path_(std::move(unix_path)) {}

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
    net::Timeouts timeouts{settings_.idle_timeout, settings_.header_timeout, kLinger};
    auto worker = std::make_shared<net::Worker>(
        timeouts, [this](net::Connection&) { return std::make_unique<HttpConnection>(dispatcher_); },
        [listener] { listener->descriptor_freed(); }, sidecar_, tls_);
    reactor_ = Pistache::Aio::Reactor::create();
    reactor_->init(Pistache::Aio::AsyncContext(settings_.workers, "kerberus-http"));
    auto key = reactor_->addHandler(worker);
    for (const auto& handler : reactor_->handlers(key)) {
        workers_.push_back(std::static_pointer_cast<net::Worker>(handler));
    }
    reactor_->run();
    listener_->start([this](int fd, std::string remote) {
        workers_[next_worker_++ % workers_.size()]->adopt(fd, std::move(remote));
    });
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
