// TLS from the test's side: certificates made for one test with the
// openssl command line, and a client on OpenSSL itself for what libcurl
// does not show or allow (pipelined bytes, protocol versions, the
// certificate a connection got).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace kerberus::test {

// A certificate and its key, PEM files.
struct CertFiles {
    std::filesystem::path cert;
    std::filesystem::path key;
};

// A CA in `dir` (files <name>.pem, <name>.key), EC P-256, valid 30 days.
CertFiles make_ca(const std::filesystem::path& dir, const std::string& name);
// A leaf certificate signed by `ca`: `cn` as its subject's CN, `serial`
// (a number), and for a server 127.0.0.1 and localhost as its names.
CertFiles make_leaf(const std::filesystem::path& dir, const CertFiles& ca, const std::string& name,
                    const std::string& cn, int serial, bool server = true);

struct TlsOptions {
    std::string ca_file;  // empty: the server is not verified
    std::string client_cert, client_key;
    int min_version = 0;  // TLS1_2_VERSION...; 0: OpenSSL's default
    int max_version = 0;
};

// One TLS connection to 127.0.0.1:port, blocking with timeouts.
class TlsClient {
public:
    TlsClient(uint16_t port, const TlsOptions& options);
    ~TlsClient();
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;

    // The handshake finished; else error() says why.
    bool connected() const { return ssl_ != nullptr && connected_; }
    const std::string& error() const { return error_; }
    // "TLSv1.3"
    std::string version() const;
    // The server certificate's serial number in hex ("1F"), and its CN.
    std::string peer_serial() const;
    std::string peer_cn() const;

    bool send(std::string_view bytes);
    // Reads until received() holds `needle` `times` times; false on
    // timeout, close or error.
    bool read_until(std::string_view needle, std::chrono::milliseconds timeout, int times = 1);
    // Reads up to the peer's close (close_notify or the end of TCP); true
    // when it closed within `timeout`.
    bool read_to_close(std::chrono::milliseconds timeout);
    const std::string& received() const { return received_; }
    void clear() { received_.clear(); }

private:
    // One read into received_; false on close, error or timeout.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    bool connected_ = false;
    bool closed_ = false;
    std::string error_;
    std::string received_;
};

}  // namespace kerberus::test
