// Which answers carry content and a Content-Length: RFC 9110 6.4.1, 8.6,
// 15.3.5 (204), 15.3.6 (205), 15.4.5 (304), 9.3.2 (HEAD); RFC 9112 6.3.
#include <gtest/gtest.h>

#include "http/header_block.h"
#include "http/wire.h"

namespace {

using kerberus::http::format_response;
using kerberus::http::HeaderBlock;
using kerberus::http::response_framing;

TEST(ResponseFraming, NoContentAndNoLengthOnInterimAnd204) {
    for (int status : {100, 103, 204}) {
        auto f = response_framing(false, status, 5, std::nullopt);
        EXPECT_FALSE(f.send_body) << status;
        EXPECT_FALSE(f.content_length) << status;
        // A stated length does not make a 204 carry one either.
        EXPECT_FALSE(response_framing(true, status, 0, 10).content_length) << status;
    }
}

TEST(ResponseFraming, ResetContentSaysZero) {
    auto f = response_framing(false, 205, 5, std::nullopt);
    EXPECT_FALSE(f.send_body);
    EXPECT_EQ(f.content_length, 0u);
}

TEST(ResponseFraming, NotModifiedCarriesOnlyAStatedLength) {
    EXPECT_FALSE(response_framing(false, 304, 0, std::nullopt).content_length);
    EXPECT_FALSE(response_framing(false, 304, 7, std::nullopt).send_body);
    EXPECT_EQ(response_framing(false, 304, 0, 1234).content_length, 1234u);
    EXPECT_EQ(response_framing(true, 304, 0, 1234).content_length, 1234u);
}

TEST(ResponseFraming, HeadReportsTheStatedLengthElseTheBodys) {
    auto stated = response_framing(true, 200, 0, 1234);
    EXPECT_FALSE(stated.send_body);
    EXPECT_EQ(stated.content_length, 1234u);
    auto own = response_framing(true, 200, 14, std::nullopt);
    EXPECT_FALSE(own.send_body);
    EXPECT_EQ(own.content_length, 14u);
    EXPECT_EQ(response_framing(true, 404, 30, std::nullopt).content_length, 30u);
}

TEST(ResponseFraming, OtherAnswersSendTheBodyAndItsLength) {
    for (int status : {200, 201, 206, 301, 400, 500}) {
        auto f = response_framing(false, status, 14, std::nullopt);
        EXPECT_TRUE(f.send_body) << status;
        EXPECT_EQ(f.content_length, 14u) << status;
    }
    EXPECT_EQ(response_framing(false, 200, 0, std::nullopt).content_length, 0u);
}

TEST(FormatResponse, WritesNoContentLengthWhereTheFramingHasNone) {
    HeaderBlock headers;
    headers.reset("keep-alive");
    std::string out;
    format_response(out, false, 204, headers, "ignored", response_framing(false, 204, 7, std::nullopt), "");
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_TRUE(out.starts_with("HTTP/1.1 204 No Content\r\n")) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;

    format_response(out, false, 200, headers, "", response_framing(true, 200, 0, 1234), "");
    EXPECT_NE(out.find("\r\nContent-Length: 1234\r\n"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;

    format_response(out, true, 200, headers, "hello", response_framing(false, 200, 5, std::nullopt), "");
    EXPECT_TRUE(out.starts_with("HTTP/1.0 200 OK\r\n")) << out;
    EXPECT_TRUE(out.ends_with("\r\nContent-Length: 5\r\n\r\nhello")) << out;
}

TEST(FormatResponse, EveryCodeHasAReasonPhrase) {
    HeaderBlock headers;
    headers.reset("close");
    std::string out;
    format_response(out, false, 413, headers, "", response_framing(false, 413, 0, std::nullopt), "");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 413 Content Too Large\r\n")) << out;
    format_response(out, false, 599, headers, "", response_framing(false, 599, 0, std::nullopt), "");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 599 Server Error\r\n")) << out;
}

}  // namespace
