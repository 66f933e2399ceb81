// SIGTERM while clients keep sending: every request the daemon accepted is
// answered; clients only ever see a refused connection once it stopped
// accepting, never a request cut off half way.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

bool refused(const std::string& error) {
    return error.find("Couldn't connect") != std::string::npos || error.find("Failed to connect") != std::string::npos;
}

}  // namespace

TEST(IntegrationShutdown, UnderLoadNoAcceptedRequestIsCutOff) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    std::atomic<int> answered{0}, refused_count{0}, cut_off{0};
    std::vector<std::string> cut;
    std::mutex cut_mutex;
    std::vector<std::thread> clients;
    const std::vector<std::string> paths = {"/api/hello/load", "/api/echo/delay?ms=100", "/api/echo/x"};
    auto until = Clock::now() + 5s;
    for (int c = 0; c < 6; ++c) {
        clients.emplace_back([&, c] {
            Session session;
            for (int i = 0; Clock::now() < until; ++i) {
                Request req;
                req.url = d.url(paths[static_cast<std::size_t>(c + i) % paths.size()]);
                auto r = session.perform(req);
                if (r.status == 200) {
                    ++answered;
                } else if (r.status == 0 && refused(r.error)) {
                    ++refused_count;
                    return;  // the daemon is gone; so is this client
                } else {
                    ++cut_off;
                    std::lock_guard lock(cut_mutex);
                    if (cut.size() < 5) cut.push_back(req.url + " -> " + std::to_string(r.status) + " " + r.error);
                }
            }
        });
    }
    std::this_thread::sleep_for(400ms);
    d.signal(SIGTERM);
    auto status = d.wait_exit(15s);
    for (auto& t : clients) t.join();
    EXPECT_EQ(status, 0);
    EXPECT_EQ(cut_off.load(), 0) << ::testing::PrintToString(cut);
    EXPECT_GT(answered.load(), 50);
    EXPECT_EQ(refused_count.load(), 6) << "every client ends on a refused connection";
}
