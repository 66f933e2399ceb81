// An HTTP/1.1 origin server inside the test process, standing in for whatever
// a plugin talks to: it records every request exactly as it arrived (header
// case and order, raw target, body bytes) so tests can assert what crossed
// the daemon, and it offers a few targets that misbehave on demand.
//
//   /status/<n>   answers status n with end-to-end and hop-by-hop headers
//                 (see kStatusHeaders) so header filtering can be observed
//   /sleep/<ms>   answers after ms (other connections are served meanwhile)
//   /big/<bytes>  a body of that many 'x'
//   /chunked      a chunked response whose body is kChunkedBody
//   /close-delimited  200 with kCloseDelimitedBody and no length: the body
//                 ends when the server closes the connection
//   /then-close   an ordinary keep-alive answer, then the server closes the
//                 connection at once (an upstream's idle timeout)
//   /close-next   an ordinary keep-alive answer; the next request on the same
//                 connection is not answered (nor recorded): the server
//                 closes as it arrives, as if it had closed the idle
//                 connection just before
//   /bad-length   200 with an invalid Content-Length
//   /untyped/<bytes>  200 with untyped_body(bytes) and no Content-Type
//   /count        reads the body (any size) without keeping it and answers
//                 {"bytes":<n>,"sum":<byte sum mod 2^32>}; the request is
//                 recorded without its body
//   /slow-count   the same, pausing 2 ms after each read (a slow reader)
//   /ws-echo      a WebSocket handshake (426 without Sec-WebSocket-Key):
//                 101 with Sec-WebSocket-Accept (and the first protocol
//                 asked for), then every byte received is sent back until
//                 the client ends its side or kIdleTimeout passes
//   /ws-hello     the same, sending kWebSocketHello right after the 101
//   anything else 200 application/json: {"method","target","headers":[[n,v],...],"body"}
// The special targets are recognised by how the path ends, so they also work
// below a prefix ("/base/status/404").
//
// One thread accepts; each connection gets a thread of its own. Everything is
// bounded: head and body sizes, connections, requests per connection, idle
// time, sleeps and recorded requests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace kerberus::test {

// Binary bytes of every value, the same for one size.
std::string untyped_body(std::size_t size);

struct UpstreamRequest {
    std::string method;
    std::string target;  // as sent: path and query, still percent-encoded
    std::string version;  // "HTTP/1.1"
    std::vector<std::pair<std::string, std::string>> headers;  // order and case as received
    std::string body;  // de-chunked
    bool chunked = false;  // the body arrived with Transfer-Encoding: chunked

    // First value of a header, case-insensitive.
    std::optional<std::string> header(std::string_view name) const;
    // Every value of a header, case-insensitive, in order.
    std::vector<std::string> header_values(std::string_view name) const;
    bool has_header(std::string_view name) const { return header(name).has_value(); }
};

class UpstreamServer {
public:
    // Headers every /status/<n> answer carries besides Content-Type and
    // Content-Length (and Connection, which also lists X-Hop).
    static constexpr std::pair<std::string_view, std::string_view> kStatusHeaders[] = {
        {"Set-Cookie", "s=1"},         {"X-Upstream-Custom", "yes"}, {"X-Custom", "upstream"},
        {"X-Hop", "secret"},           {"Keep-Alive", "timeout=5"},  {"Cache-Control", "no-store"},
    };
    static constexpr std::string_view kChunkedBody = "first chunk|second chunk|third and last chunk";
    static constexpr std::string_view kCloseDelimitedBody = "a body that ends when the connection does";
    // An unmasked text frame "hello" (RFC 6455 5.7).
    static constexpr std::string_view kWebSocketHello = "\x81\x05hello";

    static constexpr std::size_t kMaxHead = 64 * 1024;
    static constexpr std::size_t kMaxBody = 64 * 1024 * 1024;
    static constexpr std::size_t kMaxBig = std::size_t{1} << 30;
    static constexpr std::size_t kMaxConnections = 1024;
    static constexpr std::size_t kMaxRequestsPerConnection = 10'000;
    static constexpr std::size_t kMaxRecorded = 10'000;
    static constexpr std::chrono::milliseconds kMaxSleep{30'000};
    static constexpr std::chrono::milliseconds kIdleTimeout{10'000};

    // Listens on 127.0.0.1 with an ephemeral port; throws when it cannot.
    UpstreamServer();
    // Closes every connection (sleeping answers are abandoned) and joins.
    ~UpstreamServer();
    UpstreamServer(const UpstreamServer&) = delete;
    UpstreamServer& operator=(const UpstreamServer&) = delete;

    uint16_t port() const { return port_; }
    // "http://127.0.0.1:<port><path>"
    std::string url(std::string_view path) const;
    // "127.0.0.1:<port>", what a client puts in Host.
    std::string authority() const;

    // Connections accepted so far.
    std::size_t connections() const { return connections_.load(); }
    // Complete requests received so far (recorded or not).
    std::size_t requests() const { return requests_.load(); }
    // The most /sleep requests that were being answered at one time.
    std::size_t peak_sleeping() const { return peak_sleeping_.load(); }
    std::optional<UpstreamRequest> last_request() const;
    std::vector<UpstreamRequest> all_requests() const;
    // Waits until at least `count` requests arrived; false on timeout.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;
    // From now on GET `path` (exactly, without query) answers 200 with this
    // body and type, before any special target: a document such as a JSON
    // Web Key Set. Setting it again replaces it.
    void set_document(std::string path, std::string content_type, std::string body);

private:
    struct Connection {
        int fd = -1;
        std::thread thread;
        std::atomic<bool> finished{false};
    };

    struct Document {
        std::string content_type;
        std::string body;
    };
    std::optional<Document> document(const std::string& path) const;

    void accept_loop();
    void serve(Connection& connection);
    void record(UpstreamRequest request);
    // Sleeps up to `duration`; false when the server is stopping.
    bool sleep_unless_stopping(std::chrono::milliseconds duration);
    void reap_finished();

    int listen_fd_ = -1;
    int wake_pipe_[2] = {-1, -1};  // written once by the destructor to stop accept_loop
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> sleeping_{0};
    std::atomic<std::size_t> peak_sleeping_{0};
    mutable std::mutex documents_mutex_;
    std::map<std::string, Document> documents_;

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;  // a request arrived, or stopping
    std::vector<UpstreamRequest> recorded_;
    std::list<std::unique_ptr<Connection>> live_;  // guarded by mutex_

    std::thread acceptor_;
};

// A loopback port nothing listens on (bound once, then released), for
// "connection refused" cases.
uint16_t unused_port();

// Percent-encodes everything but RFC 3986 unreserved characters, for putting
// a URL into a query parameter.
std::string percent_encode(std::string_view text);

}  // namespace kerberus::test
