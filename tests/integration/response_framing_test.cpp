// Which answers carry content and a Content-Length, on the wire, for the
// plugins' answers and the daemon's own (RFC 9110 6.4.1, 8.6, 9.3.2;
// RFC 9112 6.3).
#include <gtest/gtest.h>

#include <string>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

// The raw bytes of one answer on a fresh connection that the daemon
// closes after it.
std::string answer_bytes(uint16_t port, const std::string& request) {
    RawConnection c(port);
    EXPECT_TRUE(c.send(request));
    return c.read_to_close(3s);
}

class IntegrationResponseFraming : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(d_.start(bundled_config())); }
    Daemon d_;
};

TEST_F(IntegrationResponseFraming, NoContentAnswersCarryNoContentLength) {
    for (const char* code : {"204", "304"}) {
        SCOPED_TRACE(code);
        std::string bytes = answer_bytes(
            d_.port(), std::string("GET /api/echo/status/") + code + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(bytes.starts_with(std::string("HTTP/1.1 ") + code + " ")) << bytes;
        EXPECT_EQ(bytes.find("Content-Length"), std::string::npos) << bytes;
        EXPECT_EQ(bytes.find("Content-Type"), std::string::npos) << bytes;
        EXPECT_TRUE(bytes.ends_with("\r\n\r\n")) << bytes;
    }
}

TEST_F(IntegrationResponseFraming, HeadReportsTheLengthAGetWouldSend) {
    RawConnection c(d_.port());
    ASSERT_TRUE(c.send("GET /api/hello/world HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto get = c.read_response(2s);
    ASSERT_TRUE(get.has_value());
    ASSERT_TRUE(c.send("HEAD /api/hello/world HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto head = c.read_response(2s, true);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length"), std::to_string(get->body.size()));
    EXPECT_EQ(head->header("Content-Type"), get->header("Content-Type"));
    EXPECT_TRUE(head->body.empty());
    // Nothing of a body followed: the next answer on the connection parses.
    ASSERT_TRUE(c.send("GET /api/hello/again HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto next = c.read_response(2s);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->status, 200);
}

TEST_F(IntegrationResponseFraming, TheDaemonsOwnErrorsToHeadCarryTheirLengthAndNoBody) {
    std::string bytes = answer_bytes(d_.port(), "HEAD /api/nosuchplugin/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(bytes.starts_with("HTTP/1.1 404 Not Found\r\n")) << bytes;
    auto length = bytes.find("\r\nContent-Length: ");
    ASSERT_NE(length, std::string::npos) << bytes;
    EXPECT_NE(bytes.substr(length, 20), "\r\nContent-Length: 0\r") << bytes;
    EXPECT_TRUE(bytes.ends_with("\r\n\r\n")) << bytes;
}

}  // namespace
