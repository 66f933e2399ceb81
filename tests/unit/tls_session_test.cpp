// tls::Session against an OpenSSL client over memory BIOs: the bytes the
// transport would carry, moved by hand, so each step of a connection's
// life is seen (handshake, answers of every size, close_notify, failures).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../support/test_certificate.h"
#include "tls/context.h"
#include "tls/session.h"

namespace kerberus::tls {
namespace {

using kerberus::test::kTestCertificate;
using kerberus::test::kTestKey;

class TlsSessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "kerberus-tls-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        config::TlsSettings settings;
        settings.certificate = (dir_ / "cert.pem").string();
        settings.key = (dir_ / "key.pem").string();
        std::ofstream(settings.certificate) << kTestCertificate;
        std::ofstream(settings.key) << kTestKey;
        context_ = Context::load(settings);

        client_ctx_ = SSL_CTX_new(TLS_client_method());
        client_ = SSL_new(client_ctx_);
        to_server_ = BIO_new(BIO_s_mem());
        from_server_ = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(to_server_, -1);
        BIO_set_mem_eof_return(from_server_, -1);
        SSL_set_bio(client_, from_server_, to_server_);
        SSL_set_connect_state(client_);
    }
    void TearDown() override {
        SSL_free(client_);
        SSL_CTX_free(client_ctx_);
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // What the client wrote and the server has not taken yet.
    std::string client_output() {
        std::string bytes(BIO_ctrl_pending(to_server_), '\0');
        if (!bytes.empty()) BIO_read(to_server_, bytes.data(), static_cast<int>(bytes.size()));
        return bytes;
    }
    void to_client(const std::string& bytes) {
        if (!bytes.empty()) BIO_write(from_server_, bytes.data(), static_cast<int>(bytes.size()));
    }
    // Plaintext the client can read now.
    std::string client_read() {
        std::string got;
        char buffer[16384];
        std::size_t n = 0;
        while (SSL_read_ex(client_, buffer, sizeof buffer, &n) == 1) got.append(buffer, n);
        return got;
    }
    // Runs the handshake to its end; the server's session is established.
    void handshake(Session& server) {
        for (int round = 0; round < 10 && !(SSL_is_init_finished(client_) && server.established()); ++round) {
            SSL_do_handshake(client_);
            std::string plain, out;
            ASSERT_EQ(server.receive(client_output(), plain, out), Session::Outcome::ok) << server.failure();
            EXPECT_TRUE(plain.empty());
            to_client(out);
        }
        ASSERT_TRUE(SSL_is_init_finished(client_));
        ASSERT_TRUE(server.established());
    }

    std::filesystem::path dir_;
    std::shared_ptr<const Context> context_;
    SSL_CTX* client_ctx_ = nullptr;
    SSL* client_ = nullptr;
    BIO* to_server_ = nullptr;
    BIO* from_server_ = nullptr;
};

TEST_F(TlsSessionTest, RequestsAndAnswersOfEverySizeBothWays) {
    Session server(*context_);
    handshake(server);
    for (std::size_t size : {std::size_t{1}, std::size_t{100}, std::size_t{16384}, std::size_t{70000},
                             std::size_t{3} << 20}) {
        std::string request(size, 'q');
        request[size / 2] = 'x';
        std::size_t written = 0;
        ASSERT_EQ(SSL_write_ex(client_, request.data(), request.size(), &written), 1);
        // Ciphertext arrives in reads of the worker's size.
        std::string cipher = client_output(), plain, out;
        for (std::size_t at = 0; at < cipher.size(); at += 64 * 1024) {
            ASSERT_EQ(server.receive(std::string_view(cipher).substr(at, 64 * 1024), plain, out),
                      Session::Outcome::ok);
        }
        EXPECT_EQ(plain, request);
        to_client(out);  // a session ticket or nothing
        client_read();

        std::string answer(size, 'a');
        answer[0] = 'A';
        std::string records;
        ASSERT_TRUE(server.send(answer, records));
        to_client(records);
        EXPECT_EQ(client_read(), answer);
    }
}

TEST_F(TlsSessionTest, CloseSendsCloseNotifyOnceAndThenNothing) {
    Session server(*context_);
    handshake(server);
    std::string out;
    server.close(out);
    ASSERT_FALSE(out.empty());
    to_client(out);
    char byte;
    std::size_t n = 0;
    EXPECT_EQ(SSL_read_ex(client_, &byte, 1, &n), 0);
    EXPECT_EQ(SSL_get_error(client_, 0), SSL_ERROR_ZERO_RETURN);
    std::string more;
    server.close(more);
    EXPECT_TRUE(more.empty());
    EXPECT_FALSE(server.send("late", more));
    EXPECT_TRUE(more.empty());
}

TEST_F(TlsSessionTest, ClientCloseNotifyIsTheEndOfInput) {
    Session server(*context_);
    handshake(server);
    SSL_shutdown(client_);
    std::string plain, out;
    EXPECT_EQ(server.receive(client_output(), plain, out), Session::Outcome::peer_closed);
    EXPECT_TRUE(plain.empty());
}

TEST_F(TlsSessionTest, GarbageFailsWithAReason) {
    Session server(*context_);
    std::string plain, out;
    EXPECT_EQ(server.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n", plain, out), Session::Outcome::failed);
    EXPECT_TRUE(server.failed());
    EXPECT_NE(server.failure().find("http request"), std::string::npos) << server.failure();
    // No alert for what is not TLS at all (OpenSSL sends none for a record
    // header it cannot read); a ClientHello it refuses gets one.
    EXPECT_TRUE(plain.empty());
    std::string later;
    EXPECT_EQ(server.receive("more", plain, later), Session::Outcome::failed);
    EXPECT_TRUE(later.empty());
    server.close(later);
    EXPECT_TRUE(later.empty());
    // The thread's error queue is left empty for whoever uses OpenSSL next.
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsSessionTest, ARefusedHelloGetsAnAlert) {
    // A client that offers TLS 1.1 at most.
    SSL_CTX_set_security_level(client_ctx_, 0);
    SSL_set_security_level(client_, 0);
    SSL_set_cipher_list(client_, "DEFAULT:@SECLEVEL=0");
    SSL_set_min_proto_version(client_, TLS1_1_VERSION);
    SSL_set_max_proto_version(client_, TLS1_1_VERSION);
    SSL_do_handshake(client_);
    Session server(*context_);
    std::string plain, out;
    EXPECT_EQ(server.receive(client_output(), plain, out), Session::Outcome::failed);
    EXPECT_NE(server.failure().find("unsupported protocol"), std::string::npos) << server.failure();
    EXPECT_FALSE(out.empty());  // the protocol_version alert
}

TEST_F(TlsSessionTest, ABrokenRecordAfterTheHandshakeFails) {
    Session server(*context_);
    handshake(server);
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_ex(client_, "hello", 5, &written), 1);
    std::string cipher = client_output();
    cipher.back() ^= 0x01;  // the record's tag no longer verifies
    std::string plain, out;
    EXPECT_EQ(server.receive(cipher, plain, out), Session::Outcome::failed);
    EXPECT_TRUE(plain.empty());
    EXPECT_FALSE(server.failure().empty());
}

}  // namespace
}  // namespace kerberus::tls
