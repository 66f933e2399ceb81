// server.tls: the keys, their paths, and the combinations refused before
// any file is read (the files themselves are read by tls::Context, which
// the integration tests cover).
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_support.h"

namespace kerberus::config::testing {
namespace {

using ConfigTlsTest = ConfigTest;
using Mode = TlsSettings::ClientCertificate;

TEST_F(ConfigTlsTest, OffByDefault) {
    Config c = load({write("a.yaml", "server: { workers: 1 }\n")}, environment({}));
    EXPECT_FALSE(c.server.tls.enabled());
    EXPECT_EQ(c.server.tls.client_certificate, Mode::none);
}

TEST_F(ConfigTlsTest, RelativePathsResolveAgainstTheirFile) {
    std::string file = write("etc/a.yaml",
                             "server:\n  tls:\n    certificate: tls/cert.pem\n    key: /srv/key.pem\n"
                             "    client_ca: ca.pem\n    client_certificate: optional\n");
    Config c = load({file}, environment({}));
    EXPECT_TRUE(c.server.tls.enabled());
    EXPECT_EQ(c.server.tls.certificate, path("etc/tls/cert.pem"));
    EXPECT_EQ(c.server.tls.key, "/srv/key.pem");
    EXPECT_EQ(c.server.tls.client_ca, path("etc/ca.pem"));
    EXPECT_EQ(c.server.tls.client_certificate, Mode::optional);
    EXPECT_EQ(c.server.tls.key_where.file, file);
    EXPECT_EQ(c.server.tls.key_where.line, 4);
    EXPECT_EQ(c.server.tls.key_where.column, 10);
}

TEST_F(ConfigTlsTest, Errors) {
    std::string a = write("a.yaml", "server:\n  tls:\n    certificate: c.pem\n");
    EXPECT_EQ(load_error({a}), a + ":3:5: server.tls: certificate is set but key is not: TLS needs both");
    std::string b = write("b.yaml", "server:\n  tls: { key: k.pem }\n");
    EXPECT_EQ(load_error({b}), b + ":2:8: server.tls: key is set but certificate is not: TLS needs both");
    std::string c = write("c.yaml", "server:\n  tls: { certificate: c.pem, key: k.pem, client_certificate: required }\n");
    EXPECT_EQ(load_error({c}), c + ":2:8: server.tls: client_certificate: optional or required needs client_ca, the CAs "
                                   "to verify them against");
    std::string d = write("d.yaml", "server:\n  tls: { certificate: c.pem, key: k.pem, client_certificate: maybe }\n");
    EXPECT_EQ(load_error({d}), d + ":2:62: server.tls.client_certificate: expected none, optional or required, got "
                                   "\"maybe\"");
    std::string e = write("e.yaml", "server:\n  tls: { certificate: c.pem, key: k.pem, ciphers: ALL }\n");
    EXPECT_EQ(load_error({e}), e + ":2:42: server.tls.ciphers: unknown key (expected one of: certificate, key, "
                                   "client_ca, client_certificate)");
    std::string f = write("f.yaml", "server:\n  tls: { certificate: [c.pem], key: k.pem }\n");
    EXPECT_EQ(load_error({f}), f + ":2:23: server.tls.certificate: expected a file path, got a list");
    std::string g = write("g.yaml", "server:\n  tls: { client_ca: ca.pem }\n");
    EXPECT_EQ(load_error({g}), g + ":2:8: server.tls: client_ca is set but certificate and key are not: client "
                                   "certificates need TLS");
}

}  // namespace
}  // namespace kerberus::config::testing
