// The Pistache side: one listening endpoint whose single catch-all handler
// hands every request to the Dispatcher, plus the pieces of a graceful
// shutdown Pistache 0.0.5 lacks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <pistache/endpoint.h>

#include "config/config.h"
#include "http/dispatcher.h"

namespace kerberus::http {

class Server {
public:
    Server(const config::ServerSettings& settings, Dispatcher& dispatcher);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts the worker threads. Throws std::runtime_error with
    // the address and the reason when the port cannot be bound.
    void start();
    uint16_t port() const { return port_; }
    const std::string& host() const { return host_; }

    // Closes the listening socket: new connections are refused while open
    // ones keep being served.
    void stop_accepting();
    // Stops the worker threads and closes every connection.
    void shutdown();

private:
    config::ServerSettings settings_;
    Dispatcher& dispatcher_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
    std::string host_;
    uint16_t port_ = 0;
    int listen_fd_ = -1;
    bool running_ = false;
};

}  // namespace kerberus::http
