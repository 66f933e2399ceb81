// Clients that try to wear the daemon down: slow heads and bodies
// (slowloris), connections of garbage, floods past server.max_connections
// and server.max_connections_per_client, too many header fields. Each limit
// answers as documented (a status or a close), other clients are served
// throughout, and the daemon stays up.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

// A well-behaved client: one GET on a new connection.
bool served(const Daemon& d) {
    auto r = raw_exchange(d.port(), raw_get("/api/hello/world"), 3s);
    return r && r->status == 200;
}

std::size_t open_descriptors(const Daemon& d) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(d.pid()) + "/fd")) {
        ++n;
    }
    return n;
}

std::string head_with_fields(std::size_t count) {
    std::string head = "GET /api/hello/world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (std::size_t i = 2; i < count; ++i) head += "X-Field-" + std::to_string(i) + ": v\r\n";
    return head + "\r\n";
}

TEST(IntegrationHostileClients, SlowHeadsAreCutOffWhileOthersAreServed) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "800ms")));
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < 100; ++i) {
        slow.push_back(std::make_unique<RawConnection>(d.port()));
        ASSERT_TRUE(slow.back()->send("GET /api/hello/world HTTP/1.1\r\nHost: x\r\n"));
    }
    // A byte now and then does not keep a head alive: its deadline runs
    // from its first byte.
    auto start = Clock::now();
    for (int round = 0; round < 3; ++round) {
        for (auto& c : slow) c->send("X");
        EXPECT_TRUE(served(d));
        std::this_thread::sleep_for(200ms);
    }
    for (auto& c : slow) {
        auto r = c->read_response(3s);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 408);
        EXPECT_TRUE(c->closed_by_peer(2s));
    }
    EXPECT_LT(elapsed_ms(start), 3000);
    EXPECT_TRUE(served(d));
}

TEST(IntegrationHostileClients, AStalledStreamedBodyEndsAfterTheBodyTimeout) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()
                            .plugin_dir(fixture_plugin_dir("streamer"))
                            .server("body_timeout", "500ms")
                            .server("header_timeout", "60s")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/streamer/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
    // Trickling keeps it alive: the timeout is a silence, not a total.
    for (int i = 0; i < 6; ++i) {
        std::this_thread::sleep_for(200ms);
        ASSERT_TRUE(c.send(std::string(10, 'b')));
    }
    EXPECT_TRUE(served(d));
    auto start = Clock::now();
    auto r = c.read_response(3s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "received 60 bytes, result -10");  // KERBERUS_ERR_TIMEOUT
    EXPECT_GE(elapsed_ms(start), 300);
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST(IntegrationHostileClients, ACollectedBodyMustArriveWithinTheHeaderTimeout) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("header_timeout", "600ms")));
    RawConnection c(d.port());
    ASSERT_TRUE(c.send("POST /api/echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(150ms);
        c.send("d");
    }
    auto r = c.read_response(3s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST(IntegrationHostileClients, TenThousandConnectionsOfGarbage) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    const std::size_t before = open_descriptors(d);
    std::atomic<int> answered{0}, closed{0}, hung{0}, failed_good{0};
    constexpr int kThreads = 8, kEach = 1250;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 random(1234 + t);
            for (int i = 0; i < kEach; ++i) {
                std::string junk(1 + random() % 600, '\0');
                for (char& ch : junk) ch = static_cast<char>(random());
                // Every fourth looks like the start of a request first.
                if (i % 4 == 0) junk = "GET /" + junk;
                RawConnection c(d.port());
                if (!c.connected()) continue;
                c.send(junk);
                // A client that waits is answered when its head times out
                // (SlowHeadsAreCutOff...); these end their side or leave.
                c.shutdown_write();
                if (i % 3 == 0) {
                    c.close();  // leaves at once
                } else if (c.read_response(2s)) {
                    ++answered;  // a 400 for what parsed as a broken head
                } else if (c.closed_by_peer(100ms)) {
                    ++closed;  // an unfinished head and the client's end
                } else {
                    ++hung;
                }
                if (i % 250 == 0 && !served(d)) ++failed_good;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failed_good.load(), 0);
    EXPECT_EQ(hung.load(), 0);
    EXPECT_GT(answered.load() + closed.load(), kThreads * kEach / 2);
    EXPECT_TRUE(d.running());
    EXPECT_TRUE(served(d));
    // Nothing was held: the daemon's descriptors are back to where they were.
    bool settled = false;
    for (int i = 0; i < 80 && !settled; ++i) {
        settled = open_descriptors(d) <= before + 2;
        if (!settled) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(settled) << open_descriptors(d) << " open, " << before << " before";
}

TEST(IntegrationHostileClients, AFloodPastMaxConnectionsGets503AndOthersAreServedAgainAfter) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_connections", "40")));
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 39; ++i) {
        held.push_back(std::make_unique<RawConnection>(d.port()));
        ASSERT_TRUE(held.back()->send("GET /api/hello/world HTTP/1.1\r\nHost: x\r\n\r\n"));
        ASSERT_TRUE(held.back()->read_response(3s));  // admitted and served, kept alive
    }
    EXPECT_TRUE(served(d));  // the 40th place
    held.push_back(std::make_unique<RawConnection>(d.port()));
    for (int i = 0; i < 20; ++i) {
        RawConnection over(d.port());
        auto r = over.read_response(3s);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 503);
        EXPECT_EQ(r->header("Retry-After").value_or(""), "1");
        EXPECT_EQ(r->header("Connection").value_or(""), "close");
        EXPECT_NE(r->body.find("server.max_connections"), std::string::npos) << r->body;
    }
    EXPECT_TRUE(d.wait_for_log({"refusing connections: 40 open, server.max_connections is 40"})) << d.log();
    // Connections already in keep going.
    ASSERT_TRUE(held[0]->send("GET /api/hello/again HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto again = held[0]->read_response(3s);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    held.resize(10);
    for (int i = 0; i < 50 && !served(d); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(served(d));
}

TEST(IntegrationHostileClients, OneAddressMayHoldOnlyItsShare) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_connections_per_client", "5")));
    std::vector<std::unique_ptr<RawConnection>> mine;
    for (int i = 0; i < 5; ++i) {
        mine.push_back(std::make_unique<RawConnection>(d.port(), "127.0.0.1"));
        ASSERT_TRUE(mine.back()->send("GET /api/hello/world HTTP/1.1\r\nHost: x\r\n\r\n"));
        ASSERT_TRUE(mine.back()->read_response(3s));
    }
    RawConnection sixth(d.port(), "127.0.0.1");
    auto r = sixth.read_response(3s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);
    EXPECT_NE(r->body.find("server.max_connections_per_client"), std::string::npos) << r->body;
    // Another client is not held back.
    RawConnection other(d.port(), "127.0.0.2");
    ASSERT_TRUE(other.connected());
    ASSERT_TRUE(other.send("GET /api/hello/world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    auto theirs = other.read_response(3s);
    ASSERT_TRUE(theirs);
    EXPECT_EQ(theirs->status, 200);
    // A place freed is a place again.
    mine.pop_back();
    bool admitted = false;
    for (int i = 0; i < 50 && !admitted; ++i) {
        RawConnection again(d.port(), "127.0.0.1");
        again.send("GET /api/hello/world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        auto a = again.read_response(3s);
        admitted = a && a->status == 200;
        if (!admitted) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(admitted);
}

TEST(IntegrationHostileClients, TooManyHeaderFieldsGet431) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("max_header_fields", "20")));
    auto ok = raw_exchange(d.port(), head_with_fields(20));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    auto over = raw_exchange(d.port(), head_with_fields(21));
    ASSERT_TRUE(over);
    EXPECT_EQ(over->status, 431);
    EXPECT_NE(over->body.find("more than 20 header fields"), std::string::npos) << over->body;
    // The default is 100.
    Daemon defaults;
    ASSERT_TRUE(defaults.start(bundled_config()));
    EXPECT_EQ(raw_exchange(defaults.port(), head_with_fields(100))->status, 200);
    EXPECT_EQ(raw_exchange(defaults.port(), head_with_fields(101))->status, 431);
}

}  // namespace
}  // namespace kerberus::test
