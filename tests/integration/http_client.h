// HTTP from the outside, the way clients of kerberusd talk to it: libcurl for
// ordinary requests (one-shot or over one reused connection) and a raw TCP
// socket when the exact bytes on the wire matter (keep-alive, HTTP/1.0,
// paths curl would normalise).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace kerberus::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    long status = 0;  // 0 when the transfer failed
    Headers headers;  // in the order received, names as sent
    std::string body;
    std::string error;  // transport error text; empty on success
    long num_connects = 0;  // new connections this transfer opened (libcurl)

    // First header with this name, case-insensitive.
    std::optional<std::string> header(std::string_view name) const;
};

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::optional<std::string> body;
    std::chrono::milliseconds timeout{5'000};
    // Sends the path byte for byte: no dot-segment squashing by curl.
    bool path_as_is = false;
    // Connects to this Unix socket instead of the URL's host and port.
    std::string unix_socket;
    // https: the CAs to verify the server against (curl --cacert), and the
    // client's own certificate and key (curl --cert, --key), all PEM files.
    std::string ca_file;
    std::string client_cert;
    std::string client_key;
};

// One request on a fresh connection.
Response perform(const Request& request);
Response get(const std::string& url);
Response post(const std::string& url, std::string body, std::string content_type = "text/plain");

// Several requests on one libcurl handle, so one connection is reused while
// the server keeps it open.
class Session {
public:
    Session();
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Response perform(const Request& request);

private:
    void* curl_;
};

// ---------------------------------------------------------------------------

struct RawResponse {
    std::string version;  // "HTTP/1.1"
    int status = 0;
    Headers headers;
    std::string body;
    std::optional<std::string> header(std::string_view name) const;
};

// A plain TCP connection to 127.0.0.1:port. Reads are bounded by timeouts.
class RawConnection {
public:
    // `source`: the local address to connect from ("127.0.0.2": another
    // client, as the daemon sees it); null: any.
    explicit RawConnection(uint16_t port, const char* source = nullptr);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return fd_ >= 0; }
    bool send(std::string_view bytes);
    // Ends the client's side of the connection (a half-close); reading goes on.
    bool shutdown_write();
    // Reads one response (Content-Length, chunked, or until close). nullopt
    // on timeout, on a closed connection before a full response, or on a
    // malformed response. `head_request` means no body follows the headers.
    std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                             bool head_request = false);
    // True if the peer closes (EOF or reset) within `timeout`; anything it
    // sends first is buffered and ignored.
    bool closed_by_peer(std::chrono::milliseconds timeout);
    // True if the connection is still open and silent for `quiet`.
    bool stays_open(std::chrono::milliseconds quiet);
    // Everything not yet read, up to the peer's close; empty on timeout.
    std::string read_to_close(std::chrono::milliseconds timeout);
    // Reads until what was received and not yet taken holds `needle`;
    // false on timeout or close. received() shows it.
    bool read_until(std::string_view needle, std::chrono::milliseconds timeout);
    // Reads until received() holds at least `size` bytes; false on timeout
    // or close. (send() may run on another thread meanwhile.)
    bool read_at_least(std::size_t size, std::chrono::milliseconds timeout);
    const std::string& received() const { return buffer_; }
    // Closes the connection at once (a client that leaves).
    void close();
    // Reads and drops everything up to the peer's close (or the timeout);
    // returns how many bytes that was, what received() held included.
    std::size_t drain_to_close(std::chrono::milliseconds timeout);

private:
    // Appends at least one byte to buffer_; false on EOF, error or timeout.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    bool eof_ = false;
    std::string buffer_;
};

// Sends `bytes` on a new connection and reads one response.
std::optional<RawResponse> raw_exchange(uint16_t port, std::string_view bytes,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
// "GET <target> HTTP/1.1" with Host and Connection: close.
std::string raw_get(std::string_view target);

// ---------------------------------------------------------------------------

// Parses a body; HasParseError() tells whether it was JSON.
rapidjson::Document parse_json(std::string_view body);
// A string member of an object, nullopt if absent or not a string.
std::optional<std::string> json_string(const rapidjson::Value& object, const char* name);
// The first object of an array whose string member `field` is `value`;
// null when there is none or `array` is not an array.
const rapidjson::Value* find_by(const rapidjson::Value& array, const char* field, const std::string& value);

// Checks the error shape every kerberusd error answer has:
// {"error":{"name","message"},"request":{"method","url"},"response":{"statusCode"}}
// with a JSON Content-Type. `name` is checked when not empty.
::testing::AssertionResult is_error_response(long status, std::string_view content_type, std::string_view body,
                                             long expected_status, std::string_view method, std::string_view url,
                                             std::string_view name = {});
::testing::AssertionResult is_error_response(const Response& r, long expected_status, std::string_view method,
                                             std::string_view url, std::string_view name = {});
::testing::AssertionResult is_error_response(const RawResponse& r, long expected_status, std::string_view method,
                                             std::string_view url, std::string_view name = {});

}  // namespace kerberus::test
