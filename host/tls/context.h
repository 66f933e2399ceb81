// One TLS server configuration as OpenSSL holds it: the certificate chain,
// its key and the client-certificate policy of server.tls, read from their
// files. Immutable once made; connections share it (each SSL object keeps
// its SSL_CTX alive), so a reload makes a new one rather than changing this.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace kerberus::tls {

class Context {
public:
    // Reads the files `settings` names (settings.enabled() must be true).
    // TLS 1.2 and 1.3 only, OpenSSL's default ciphers, no renegotiation.
    // Throws config::ConfigError at the key that names the file at fault:
    // the file's path and OpenSSL's reason (a file that does not parse, a
    // key with a passphrase, a key that is not the certificate's). Any
    // thread; reads the files on the calling thread.
    static std::shared_ptr<const Context> load(const config::TlsSettings& settings);

    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    SSL_CTX* native() const { return ctx_; }
    // The certificate for a log line: subject, serial and expiry
    // ("CN=example.org, serial 1A2B, expires 2026-01-31 12:00:00 UTC").
    const std::string& summary() const { return summary_; }
    // The certificate's notAfter has passed (worth a warning, not a refusal:
    // an operator renewing late still wants the daemon up).
    bool expired() const { return expired_; }

private:
    explicit Context(SSL_CTX* ctx) : ctx_(ctx) {}

    SSL_CTX* ctx_;
    std::string summary_;
    bool expired_ = false;
};

// OpenSSL's reasons for the errors queued on this thread, oldest first,
// joined by "; " (the queue is emptied). "unknown error" when none is queued.
std::string take_errors();

}  // namespace kerberus::tls
