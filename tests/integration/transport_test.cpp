// What the connection layer promises under pressure: one descriptor per
// client, no spinning at the open-file limit, timeouts answered like every
// other error, answers that still reach a client who closed its side.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cerrno>
#include <cstring>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

std::size_t open_descriptors(pid_t pid) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        ++n;
    }
    return n;
}

// User plus system CPU time the process has used, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) {
            stime = std::stol(field);
            break;
        }
    }
    return utime + stime;
}

// Connections that have been answered once, so the daemon has surely
// accepted them.
std::vector<std::unique_ptr<RawConnection>> served_connections(uint16_t port, int count) {
    std::vector<std::unique_ptr<RawConnection>> out;
    for (int i = 0; i < count; ++i) {
        auto c = std::make_unique<RawConnection>(port);
        EXPECT_TRUE(c->send("GET /api/hello/ HTTP/1.1\r\nHost: a\r\n\r\n"));
        auto r = c->read_response(3s);
        EXPECT_TRUE(r.has_value() && r->status == 200) << "connection " << i;
        out.push_back(std::move(c));
    }
    return out;
}

TEST(IntegrationTransport, AConnectionHoldsOneDescriptor) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto before = open_descriptors(d.pid());
    auto connections = served_connections(d.port(), 40);
    EXPECT_EQ(open_descriptors(d.pid()), before + 40);
    connections.clear();
    // Closed by the clients: the daemon's descriptors go with them.
    auto deadline = Clock::now() + 3s;
    while (open_descriptors(d.pid()) != before && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(open_descriptors(d.pid()), before);
}

// At the open-file limit the daemon stops accepting, says so once, uses no
// CPU while it waits, and serves the waiting clients once descriptors free.
TEST(IntegrationTransport, AtTheDescriptorLimitAcceptingPausesWithoutSpinning) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    rlimit limit{};
    limit.rlim_cur = open_descriptors(d.pid()) + 10;
    limit.rlim_max = limit.rlim_cur;
    ASSERT_EQ(prlimit(d.pid(), RLIMIT_NOFILE, &limit, nullptr), 0) << std::strerror(errno);

    auto held = served_connections(d.port(), 10);
    // These complete the TCP handshake in the backlog, but cannot be accepted.
    std::vector<std::unique_ptr<RawConnection>> waiting;
    for (int i = 0; i < 20; ++i) {
        waiting.push_back(std::make_unique<RawConnection>(d.port()));
        ASSERT_TRUE(waiting.back()->send("GET /api/hello/waited HTTP/1.1\r\nHost: a\r\n\r\n"));
    }
    ASSERT_TRUE(d.wait_for_log({"not accepting connections", "Too many open files", "the limit is"}, 3s)) << d.log();

    long before = cpu_ticks(d.pid());
    std::this_thread::sleep_for(1s);
    long used = cpu_ticks(d.pid()) - before;
    EXPECT_LT(used, sysconf(_SC_CLK_TCK) / 10) << "the daemon burned CPU while it could not accept";
    EXPECT_EQ(d.log_lines_with({"not accepting connections"}).size(), 1u) << d.log();

    // Descriptors free: every waiting client is served, in turn.
    held.clear();
    for (std::size_t i = 0; i < waiting.size(); ++i) {
        auto r = waiting[i]->read_response(5s);
        ASSERT_TRUE(r.has_value()) << "waiting client " << i << " was never served";
        EXPECT_EQ(r->body, "Hello, waited!\n");
        waiting[i].reset();
    }
    EXPECT_TRUE(d.wait_for_log({"accepting connections again"}, 3s)) << d.log();
}

TEST(IntegrationTransport, SlowHeadersGet408WithDateAndAJsonBody) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "500ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/hello/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    auto r = c.read_response(4s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 408, "", "")) << r->body;
    EXPECT_TRUE(r->header("Date").has_value());
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST(IntegrationTransport, SlowBodyGets408NamingTheRequest) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "500ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/echo/up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
    auto r = c.read_response(4s);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(is_error_response(*r, 408, "POST", "/api/echo/up")) << r->body;
    EXPECT_TRUE(c.closed_by_peer(2s));
}

// The request timeout counts from each request's first byte: a client
// whose reads always end inside the next pipelined request is not slow.
TEST(IntegrationTransport, RequestTimeoutRestartsWithEachRequest) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "500ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/hello/0 HTTP/1.1\r\nHo"));
    for (int i = 1; i <= 15; ++i) {
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(c.send("st: a\r\n\r\nGET /api/hello/" + std::to_string(i) + " HTTP/1.1\r\nHo"));
        auto r = c.read_response(2s);
        ASSERT_TRUE(r.has_value()) << "request " << i - 1;
        ASSERT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(r->body, "Hello, " + std::to_string(i - 1) + "!\n");
    }
}

TEST(IntegrationTransport, IdleConnectionIsClosedAfterIdleTimeout) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("idle_timeout", "500ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/hello/ HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_TRUE(c.read_response(2s).has_value());
    auto started = Clock::now();
    EXPECT_TRUE(c.closed_by_peer(3s)) << "idle connection left open";
    EXPECT_GE(elapsed_ms(started), 400);
}

// A plugin taking longer than the idle timeout to answer is not an idle
// client.
TEST(IntegrationTransport, WaitingForAnAsyncAnswerIsNotIdle) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("idle_timeout", "300ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("GET /api/echo/delay?ms=1000 HTTP/1.1\r\nHost: a\r\n\r\n"));
    auto r = c.read_response(3s);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
}

// A client may send its request and shut its side (RFC 9112 9.6 allows a
// half-close); the answers it is owed still arrive, then the connection ends.
TEST(IntegrationTransport, AnswersReachAClientThatClosedItsSide) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (const char* target : {"/api/hello/half", "/api/echo/delay?ms=200"}) {
        SCOPED_TRACE(target);
        RawConnection c(d.port());
        ASSERT_TRUE(c.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_TRUE(c.shutdown_write());
        auto r = c.read_response(3s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->status, 200);
        EXPECT_TRUE(c.closed_by_peer(2s));
    }
}

}  // namespace
