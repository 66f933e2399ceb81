#include "tls/session.h"

#include <algorithm>
#include <new>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace kerberus::tls {
namespace {

constexpr std::size_t kPiece = 4 * SSL3_RT_MAX_PLAIN_LENGTH;

}  // namespace

Session::Session(const Context& context) {
    ssl_ = SSL_new(context.native());
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
        SSL_free(ssl_);
        BIO_free(in_);
        BIO_free(out_);
        ERR_clear_error();
        throw std::bad_alloc();
    }
    // An empty memory BIO reads as "try again", not as the end of input:
    // the end comes from the socket, and the transport says so.
    BIO_set_mem_eof_return(in_, -1);
    BIO_set_mem_eof_return(out_, -1);
    SSL_set_bio(ssl_, in_, out_);  // the SSL owns both from here
    SSL_set_accept_state(ssl_);
}

Session::~Session() { SSL_free(ssl_); }

bool Session::established() const { return SSL_is_init_finished(ssl_) != 0; }

void Session::drain(std::string& out) {
    // Reading a memory BIO empty moves no bytes within it, unlike a reset,
    // which clears its whole buffer.
    std::size_t pending = BIO_ctrl_pending(out_);
    if (pending == 0) return;
    std::size_t at = out.size();
    out.resize(at + pending);
    int n = BIO_read(out_, out.data() + at, static_cast<int>(pending));
    out.resize(at + (n > 0 ? static_cast<std::size_t>(n) : 0));
}

void Session::fail() {
    failed_ = true;
    failure_ = take_errors();
}

Session::Outcome Session::receive(std::string_view cipher, std::string& plain, std::string& out) {
    if (failed_) return Outcome::failed;
    // SSL_get_error reads this thread's error queue: something else on the
    // thread (libcurl, another connection) may have left entries in it.
    ERR_clear_error();
    if (BIO_write(in_, cipher.data(), static_cast<int>(cipher.size())) != static_cast<int>(cipher.size())) {
        fail();
        return Outcome::failed;
    }
    // Read through a buffer of one record's size: sizing `plain` up front
    // would zero a record's worth of it for every small request.
    char record[SSL3_RT_MAX_PLAIN_LENGTH];
    Outcome outcome = Outcome::ok;
    for (;;) {
        std::size_t got = 0;
        int rc = SSL_read_ex(ssl_, record, sizeof record, &got);
        if (rc == 1) {
            plain.append(record, got);
            continue;
        }
        int error = SSL_get_error(ssl_, rc);
        if (error == SSL_ERROR_WANT_READ) break;
        if (error == SSL_ERROR_ZERO_RETURN) {
            outcome = Outcome::peer_closed;
        } else {
            fail();
            outcome = Outcome::failed;
        }
        break;
    }
    drain(out);
    return outcome;
}

bool Session::send(std::string_view plain, std::string& out) {
    if (failed_ || closed_) return false;
    ERR_clear_error();
    while (!plain.empty()) {
        // A memory BIO keeps the largest buffer it ever held for the
        // connection's life: pieces bound it, at no cost in records (each
        // is a whole number of 16 KiB ones).
        std::size_t piece = std::min<std::size_t>(plain.size(), kPiece);
        std::size_t written = 0;
        if (SSL_write_ex(ssl_, plain.data(), piece, &written) != 1) {
            fail();
            drain(out);
            return false;
        }
        plain.remove_prefix(written);
        drain(out);
    }
    return true;
}

void Session::close(std::string& out) {
    if (closed_ || failed_ || !established()) return;
    closed_ = true;
    ERR_clear_error();
    // Once: the answer to the client's own close_notify is not awaited.
    (void)SSL_shutdown(ssl_);
    ERR_clear_error();
    drain(out);
}

}  // namespace kerberus::tls
