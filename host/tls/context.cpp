#include "tls/context.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace kerberus::tls {
namespace {

using config::ConfigError;

// A key protected by a passphrase would make OpenSSL prompt on the
// terminal: a daemon has none, so the key simply fails to load.
int no_passphrase(char*, int, int, void*) { return 0; }

// OpenSSL's own "No such file or directory" comes wrapped in "system
// library" noise: a file that cannot be opened is said plainly.
void check_readable(const std::string& path, const config::Location& where, const std::string& key) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw ConfigError(where, key, "cannot read " + path + ": " + std::strerror(errno));
    std::fclose(f);
}

std::string asn1_time_text(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

std::string summary_of(X509* cert) {
    if (cert == nullptr) return "no certificate";
    std::string subject;
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        char* data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0) subject.assign(data, static_cast<std::size_t>(n));
        BIO_free(bio);
    }
    std::string serial = "?";
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
        if (char* hex = BN_bn2hex(bn)) {
            serial = hex;
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
    return subject + ", serial " + serial + ", expires " + asn1_time_text(X509_get0_notAfter(cert));
}

}  // namespace

std::string take_errors() {
    std::string text;
    while (unsigned long e = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(e);
        char buffer[256];
        if (reason == nullptr) {
            ERR_error_string_n(e, buffer, sizeof buffer);
            reason = buffer;
        }
        if (!text.empty()) text += "; ";
        text += reason;
    }
    return text.empty() ? "unknown error" : text;
}

Context::~Context() { SSL_CTX_free(ctx_); }

std::shared_ptr<const Context> Context::load(const config::TlsSettings& settings) {
    ERR_clear_error();
    SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
    if (raw == nullptr) throw std::runtime_error("cannot make a TLS context: " + take_errors());
    std::shared_ptr<Context> context(new Context(raw));
    SSL_CTX* ctx = raw;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Client-initiated renegotiation is a denial-of-service lever and would
    // let a read need a write in the middle of an answer; TLS 1.3 has none.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    // An idle connection holds no record buffers (nginx sets it too): with
    // many kept-alive clients they would be most of the daemon's memory.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

    check_readable(settings.certificate, settings.certificate_where, "server.tls.certificate");
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.certificate.c_str()) != 1) {
        throw ConfigError(settings.certificate_where, "server.tls.certificate",
                          "cannot use " + settings.certificate + " as a PEM certificate chain: " + take_errors());
    }
    // Read on its own, so that a key that does not parse and a key that
    // belongs to another certificate are told apart.
    check_readable(settings.key, settings.key_where, "server.tls.key");
    EVP_PKEY* key = nullptr;
    if (BIO* file = BIO_new_file(settings.key.c_str(), "r")) {
        key = PEM_read_bio_PrivateKey(file, nullptr, no_passphrase, nullptr);
        BIO_free(file);
    }
    if (key == nullptr) {
        throw ConfigError(settings.key_where, "server.tls.key",
                          "cannot use " + settings.key + " as a PEM private key (without a passphrase): " +
                              take_errors());
    }
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> owned_key(key, &EVP_PKEY_free);
    if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        throw ConfigError(settings.key_where, "server.tls.key",
                          settings.key + " is not the private key of the certificate in " + settings.certificate +
                              ": " + take_errors());
    }

    using Mode = config::TlsSettings::ClientCertificate;
    if (!settings.client_ca.empty()) {
        check_readable(settings.client_ca, settings.client_ca_where, "server.tls.client_ca");
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.client_ca.c_str());
        if (names == nullptr || SSL_CTX_load_verify_locations(ctx, settings.client_ca.c_str(), nullptr) != 1) {
            if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
            throw ConfigError(settings.client_ca_where, "server.tls.client_ca",
                              "cannot use " + settings.client_ca + " as PEM CA certificates: " + take_errors());
        }
        // Tells clients which CAs to pick a certificate for.
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (settings.client_certificate != Mode::none) {
        int mode = SSL_VERIFY_PEER;
        if (settings.client_certificate == Mode::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, nullptr);
    }
    // Resuming a session that was verified needs a context to bind it to;
    // without one OpenSSL fails such handshakes outright.
    static const unsigned char kSessionContext[] = "kerberusd";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);

    X509* cert = SSL_CTX_get0_certificate(ctx);
    context->summary_ = summary_of(cert);
    context->expired_ = cert != nullptr && X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
    return context;
}

}  // namespace kerberus::tls
