// The listening side: kerberus's own transport (net/) on Pistache's
// reactor, whose worker threads each watch their connections with an epoll
// set, and HTTP/1.1 (HttpConnection) on every connection.
//
// Pistache's own TCP transport is not used: it gave each connection two
// descriptors (kerberus had to duplicate them to write from other threads),
// spun at the open-file limit, answered its timeouts without a Date or a
// body, and read every socket until EAGAIN.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pistache/reactor.h>
#include <spdlog/logger.h>

#include "config/config.h"
#include "http/dispatcher.h"
#include "net/connection_limits.h"
#include "net/listener.h"
#include "net/worker.h"
#include "tls/acceptor.h"

namespace kerberus::http {

class Server {
public:
    // Listens on settings.listen_host:listen_port, or on the Unix socket
    // `unix_path` when it is not empty.
    Server(const config::ServerSettings& settings, Dispatcher& dispatcher, std::shared_ptr<spdlog::logger> log,
           std::string unix_path = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Before start(): each worker thread also runs a Sidecar from `make`.
    void set_sidecar(net::SidecarFactory make) { sidecar_ = std::move(make); }
    // Before start(): TLS on every connection (null: plaintext).
    void set_tls(std::shared_ptr<const tls::Acceptor> tls) { tls_ = std::move(tls); }

    // Binds and starts the worker threads. Throws std::runtime_error with
    // the address and the reason when the port cannot be bound.
    void start();
    uint16_t port() const { return port_; }
    const std::string& host() const { return settings_.listen_host; }
    // The listener speaks TLS.
    bool tls() const { return tls_ != nullptr; }
    // "http://127.0.0.1:7007", "http://[::1]:7007", "https://127.0.0.1:7007"
    // (with TLS) or "unix:/run/kerberus/admin.sock".
    std::string url() const;

    // Closes the listening socket: new connections are refused while open
    // ones keep being served.
    void stop_accepting();
    // Stops the worker threads and closes every connection.
    void shutdown();

private:
    void refuse(int fd, net::ConnectionLimits::Admission admission, const std::string& remote);

    config::ServerSettings settings_;
    Dispatcher& dispatcher_;
    std::shared_ptr<spdlog::logger> log_;
    std::string unix_path_;
    std::unique_ptr<net::Listener> listener_;
    std::shared_ptr<Pistache::Aio::Reactor> reactor_;
    std::vector<std::shared_ptr<net::Worker>> workers_;
    net::SidecarFactory sidecar_;
    net::ConnectionLimits limits_;
    std::shared_ptr<const tls::Acceptor> tls_;
    std::size_t next_worker_ = 0;  // accepting thread only
    std::chrono::steady_clock::time_point last_refusal_log_;  // accepting thread only
    uint16_t port_ = 0;
};

}  // namespace kerberus::http
