// A certificate and key for tests of the listener's TLS that need fixed
// bytes (the fuzz target, the session's unit tests). Tests of the daemon
// make their own CA and certificates.
#pragma once

namespace kerberus::test {

// EC P-256, self-signed, CN=kerberus-fuzz, valid until 2126.
inline constexpr char kTestCertificate[] = R"(-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUQ44tGpKa4dmI4Gwu/ZL8PGu18P0wCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNa2VyYmVydXMtZnV6ejAgFw0yNjExMzAwNTMyMDhaGA8yMTI2
MTEwNjA1MzIwOFowGDEWMBQGA1UEAwwNa2VyYmVydXMtZnV6ejBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABOHW5tqwfZZuNvNglURde3D/EizB1ZTfTCwFCumW+a2c
wS9wF+nMPoryXlXfWpDo7lnFlPnelp8MJruT3FEyIBqjaTBnMB0GA1UdDgQWBBQY
b7vEOUqAqrIhnutN4P95pNlDYzAfBgNVHSMEGDAWgBQYb7vEOUqAqrIhnutN4P95
pNlDYzAPBgNVHRMBAf8EBTADAQH/MBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAKBggq
hkjOPQQDAgNIADBFAiBrbUewQ8fCln6FiqoYTD+eHwUyvLR0/mavWDSXXgloGwIh
AI0E7bLYfDBid19xmZhwcW0MLIHUJZEiwbWour66jhbz
-----END CERTIFICATE-----
)";
inline constexpr char kTestKey[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgY31pMpAg3GXO+Zko
0xFtWvUR+aXZ8pQwzeE9y1epXtGhRANCAATh1ubasH2WbjbzYJVEXXtw/xIswdWU
30wsBQrplvmtnMEvcBfpzD6K8l5V31qQ6O5ZxZT53pafDCa7k9xRMiAa
-----END PRIVATE KEY-----
)";

}  // namespace kerberus::test
