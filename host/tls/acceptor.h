// TLS for one listener: the context new connections start with, replaced
// by a reload while connections made before keep theirs, and the one place
// handshake failures are logged and counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "tls/context.h"
#include "tls/session.h"

namespace kerberus::tls {

class Acceptor {
public:
    Acceptor(std::shared_ptr<const Context> context, std::shared_ptr<spdlog::logger> log);

    // Any thread: a session for a connection just accepted, on the current
    // context. Throws std::bad_alloc.
    std::unique_ptr<Session> start() const;

    // Any thread: connections accepted from now on use `context`.
    void replace(std::shared_ptr<const Context> context);
    std::shared_ptr<const Context> current() const { return context_.load(std::memory_order_acquire); }

    // Any thread: the handshake with `remote` failed for `why` (OpenSSL's
    // reason, or a timeout). Logged at debug only: anyone can send garbage
    // to a public port, and a log line each would let them fill the disk.
    void handshake_failed(const std::string& remote, const std::string& why) const;
    // Any thread: an established connection broke (a bad record, an alert).
    void session_failed(const std::string& remote, const std::string& why) const;

private:
    std::atomic<std::shared_ptr<const Context>> context_;
    std::shared_ptr<spdlog::logger> log_;
};

// Handshakes that failed or timed out since the daemon started, over every
// listener (kerberus_tls_handshake_failures_total).
uint64_t handshake_failures();

}  // namespace kerberus::tls
