#include "tls_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace kerberus::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Runs a shell command; its output goes to dir/openssl.log.
void run(const fs::path& dir, const std::string& command) {
    std::string line = command + " >>'" + (dir / "openssl.log").string() + "' 2>&1";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string errors() {
    std::string text;
    while (unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        text += (text.empty() ? "" : "; ") + std::string(buffer);
    }
    return text.empty() ? "no OpenSSL error" : text;
}

const char kEcKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

CertFiles make_ca(const fs::path& dir, const std::string& name) {
    CertFiles ca{dir / (name + ".pem"), dir / (name + ".key")};
    run(dir, std::string("openssl req -x509 ") + kEcKey + " -keyout " + quoted(ca.key) + " -out " + quoted(ca.cert) +
                 " -days 30 -subj '/CN=" + name + "' -addext basicConstraints=critical,CA:TRUE" +
                 " -addext keyUsage=critical,keyCertSign,cRLSign");
    return ca;
}

CertFiles make_leaf(const fs::path& dir, const CertFiles& ca, const std::string& name, const std::string& cn, int serial,
                    bool server) {
    CertFiles leaf{dir / (name + ".pem"), dir / (name + ".key")};
    fs::path csr = dir / (name + ".csr");
    fs::path ext = dir / (name + ".ext");
    {
        std::ofstream out(ext);
        out << "basicConstraints=CA:FALSE\n";
        if (server) {
            out << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
        } else {
            out << "extendedKeyUsage=clientAuth\n";
        }
    }
    run(dir, std::string("openssl req -new ") + kEcKey + " -keyout " + quoted(leaf.key) + " -out " + quoted(csr) +
                 " -subj '/CN=" + cn + "'");
    run(dir, "openssl x509 -req -in " + quoted(csr) + " -CA " + quoted(ca.cert) + " -CAkey " + quoted(ca.key) +
                 " -set_serial " + std::to_string(serial) + " -days 30 -extfile " + quoted(ext) + " -out " +
                 quoted(leaf.cert));
    return leaf;
}

TlsClient::TlsClient(uint16_t port, const TlsOptions& options) {
    // OpenSSL writes to the socket with write(): a server that closed (a
    // refused handshake) would end the test process with SIGPIPE.
    static const bool ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
    (void)ignored;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error_ = "cannot connect";
        return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);

    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (options.min_version != 0 && options.min_version < TLS1_2_VERSION) {
        // OpenSSL 3 offers TLS 1.0 and 1.1 at security level 0 only.
        SSL_CTX_set_security_level(ctx_, 0);
        SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    if (options.min_version != 0) SSL_CTX_set_min_proto_version(ctx_, options.min_version);
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, options.max_version);
    if (!options.ca_file.empty()) {
        SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    if (!options.client_cert.empty()) {
        SSL_CTX_use_certificate_chain_file(ctx_, options.client_cert.c_str());
        SSL_CTX_use_PrivateKey_file(ctx_, options.client_key.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
        int rc = SSL_connect(ssl_);
        if (rc == 1) break;
        int e = SSL_get_error(ssl_, rc);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || Clock::now() >= deadline) {
            error_ = "handshake failed: " + errors();
            return;
        }
        pollfd p{fd_, static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 100);
    }
    // TLS 1.3 sends a client certificate after the client's handshake is
    // done: the server's verdict on it arrives with the first read, so a
    // refusal shows as the connection failing there (see read_until).
    connected_ = true;
}

TlsClient::~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
}

std::string TlsClient::version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

std::string TlsClient::peer_serial() const {
    if (ssl_ == nullptr) return "";
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    std::string text;
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
        char* hex = BN_bn2hex(bn);
        text = hex;
        OPENSSL_free(hex);
        BN_free(bn);
    }
    X509_free(cert);
    return text;
}

std::string TlsClient::peer_cn() const {
    if (ssl_ == nullptr) return "";
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) return "";
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
}

bool TlsClient::send(std::string_view bytes) {
    if (!connected()) return false;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!bytes.empty()) {
        std::size_t written = 0;
        int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
        if (rc == 1) {
            bytes.remove_prefix(written);
            continue;
        }
        int e = SSL_get_error(ssl_, rc);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || Clock::now() >= deadline) {
            error_ = "write failed: " + errors();
            return false;
        }
        pollfd p{fd_, static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 100);
    }
    return true;
}

bool TlsClient::fill(Clock::time_point deadline) {
    if (!connected() || closed_) return false;
    char buffer[16384];
    for (;;) {
        std::size_t got = 0;
        int rc = SSL_read_ex(ssl_, buffer, sizeof buffer, &got);
        if (rc == 1) {
            received_.append(buffer, got);
            return true;
        }
        int e = SSL_get_error(ssl_, rc);
        if (e == SSL_ERROR_ZERO_RETURN) {
            closed_ = true;
            return false;
        }
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            error_ = "read failed: " + errors();
            closed_ = true;
            return false;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd_, static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
    }
}

bool TlsClient::read_until(std::string_view needle, std::chrono::milliseconds timeout, int times) {
    auto deadline = Clock::now() + timeout;
    auto count = [&] {
        int n = 0;
        for (std::size_t at = received_.find(needle); at != std::string::npos; at = received_.find(needle, at + 1)) ++n;
        return n;
    };
    while (count() < times) {
        if (!fill(deadline)) return false;
    }
    return true;
}

bool TlsClient::read_to_close(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
    }
    return closed_;
}

}  // namespace kerberus::test
