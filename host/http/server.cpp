#include "http/server.h"

#include "http/catch_all_handler.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kerberus::http {
namespace {

namespace PH = Pistache::Http;

uint16_t bound_port(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    return 0;
}

// Pistache keeps its listening socket private and has no way to stop
// accepting without stopping everything. The socket is found by what it is:
// a listening socket of this process bound to our port.
int find_listening_socket(uint16_t port) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = std::atoi(entry.path().filename().c_str());
        int listening = 0;
        socklen_t len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
        if (bound_port(fd) == port) return fd;
    }
    return -1;
}

}  // namespace

Server::Server(const config::ServerSettings& settings, Dispatcher& dispatcher)
    : settings_(settings), dispatcher_(dispatcher) {}

Server::~Server() { shutdown(); }

void Server::start() {
    host_ = settings_.listen_host;
    std::string address = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    try {
        Pistache::Address addr(address, Pistache::Port(settings_.listen_port));
        endpoint_ = std::make_unique<PH::Endpoint>(addr);
        auto header_timeout = settings_.header_timeout;
        auto options = PH::Endpoint::options()
                           .threads(static_cast<int>(settings_.workers))
                           .threadsName("kerberus-http")
                           .flags(Pistache::Tcp::Options::ReuseAddr)
                           .headerTimeout(header_timeout)
                           .bodyTimeout(header_timeout);
        endpoint_->init(options);
        endpoint_->setHandler(Pistache::Http::make_handler<CatchAllHandler>(&dispatcher_));
        // serveThreaded() binds by itself; an earlier bind() would leave a
        // second, unserved socket behind.
        endpoint_->serveThreaded();
    } catch (const std::exception& e) {
        endpoint_.reset();
        throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(settings_.listen_port) + ": " +
                                 e.what());
    }
    running_ = true;
    port_ = static_cast<uint16_t>(endpoint_->getPort());
    listen_fd_ = find_listening_socket(port_);
}

void Server::stop_accepting() {
    if (listen_fd_ < 0) return;
    // Replacing the descriptor closes the listening socket (the kernel
    // refuses new connections from here on) while Pistache's accept loop
    // keeps a valid descriptor number to close at shutdown; epoll drops the
    // old socket by itself.
    int placeholder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (placeholder >= 0) {
        ::dup2(placeholder, listen_fd_);
        ::close(placeholder);
    }
    listen_fd_ = -1;
}

void Server::shutdown() {
    if (!running_) return;
    running_ = false;
    endpoint_->shutdown();
    endpoint_.reset();
}

}  // namespace kerberus::http
