#include "ops/self_check.h"

#include <cstring>
#include <string_view>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http/dispatcher.h"

namespace kerberus::ops {
namespace {

// A wildcard listener is probed on loopback.
std::string probe_host(const std::string& listen_host) {
    if (listen_host == "0.0.0.0" || listen_host.empty()) return "127.0.0.1";
    if (listen_host == "::") return "::1";
    return listen_host;
}

// The request and its answer's first bytes over `fd`, in TLS or not; the
// socket's own timeouts bound each step.
bool exchange(int fd, const std::string& request, bool tls) {
    char reply[32] = {};
    std::size_t got = 0;
    if (!tls) {
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
            return false;
        }
        while (got < 12) {
            ssize_t n = ::recv(fd, reply + got, sizeof reply - 1 - got, 0);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        return std::string_view(reply, got).substr(0, 12) == "HTTP/1.1 200";
    }
    // One client context for the daemon's life (the watchdog's thread only).
    static SSL_CTX* const ctx = [] {
        SSL_CTX* c = SSL_CTX_new(TLS_client_method());
        if (c != nullptr) SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        return c;
    }();
    ERR_clear_error();
    SSL* ssl = ctx != nullptr ? SSL_new(ctx) : nullptr;
    bool ok = false;
    if (ssl != nullptr && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1) {
        std::size_t written = 0;
        if (SSL_write_ex(ssl, request.data(), request.size(), &written) == 1) {
            while (got < 12) {
                std::size_t n = 0;
                if (SSL_read_ex(ssl, reply + got, sizeof reply - 1 - got, &n) != 1) break;
                got += n;
            }
            ok = std::string_view(reply, got).substr(0, 12) == "HTTP/1.1 200";
        }
    }
    SSL_free(ssl);
    ERR_clear_error();
    return ok;
}

}  // namespace

bool liveness_answers(const std::string& listen_host, uint16_t port, std::chrono::milliseconds timeout, bool tls) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string host = probe_host(listen_host);
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) return false;
    int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = false;
    if (fd >= 0) {
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::string request = "GET " + std::string(http::kLivenessPath) +
                              " HTTP/1.1\r\nHost: kerberusd\r\nConnection: close\r\n\r\n";
        ok = ::connect(fd, found->ai_addr, found->ai_addrlen) == 0 && exchange(fd, request, tls);
        ::close(fd);
    }
    freeaddrinfo(found);
    return ok;
}

}  // namespace kerberus::ops
