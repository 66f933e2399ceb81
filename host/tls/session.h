// TLS on one connection, with no socket of its own: ciphertext goes in and
// out through memory BIOs, so the transport keeps doing every read, send
// and queueing itself, TLS or not (net/connection.h).
//
// Not safe for concurrent use (no OpenSSL connection object is): the
// transport makes every call under the connection's write mutex, from the
// worker reading it or from whichever thread writes an answer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tls/context.h"

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace kerberus::tls {

class Session {
public:
    // A server-side session in the accept state, holding a reference to
    // `context` for its whole life (a reload does not affect it). Throws
    // std::bad_alloc when OpenSSL cannot allocate it.
    explicit Session(const Context& context);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    enum class Outcome {
        ok,           // all that could be read was read; more input is awaited
        peer_closed,  // the client sent close_notify: the end of its input
        failed,       // a fatal error (a failed handshake, a bad record): see failure()
    };
    // Takes `cipher` as received from the client. Appends the plaintext it
    // carried to `plain`, and to `out` the bytes TLS owes the client
    // (handshake messages, session tickets, key updates, and on failure
    // the alert that says why): they must be sent even when the outcome is
    // `failed`. After a failure, input is dropped and `failed` returned.
    Outcome receive(std::string_view cipher, std::string& plain, std::string& out);

    // Encrypts `plain` and appends the records to `out`. False when the
    // session failed (nothing can be sent on it any more). Only once
    // established(): no plaintext is owed before a request arrived.
    bool send(std::string_view plain, std::string& out);

    // Appends a close_notify alert to `out`, once; later calls, or calls
    // before the handshake finished or after a failure, append nothing.
    void close(std::string& out);

    // The handshake finished.
    bool established() const;
    bool failed() const { return failed_; }
    // Why the session failed: OpenSSL's reasons ("http request", "wrong
    // version number", "unsupported protocol", "peer did not return a
    // certificate", "tlsv1 alert unknown ca").
    const std::string& failure() const { return failure_; }

private:
    void drain(std::string& out);
    void fail();

    SSL* ssl_ = nullptr;
    BIO* in_ = nullptr;   // ciphertext from the client, read by SSL
    BIO* out_ = nullptr;  // ciphertext for the client, written by SSL
    bool failed_ = false;
    bool closed_ = false;
    std::string failure_;
};

}  // namespace kerberus::tls
