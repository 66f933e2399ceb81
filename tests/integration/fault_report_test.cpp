// A plugin that faults takes the daemon down (plugins share its process);
// the daemon's last words name the plugin, its version and file, and the
// route it was serving, then the signal runs its course so the service
// manager restarts the daemon.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "daemon.h"
#include "http_client.h"

using namespace kerberus::test;
using namespace std::chrono_literals;

namespace {

struct Fault {
    const char* route;
    int signal;
    const char* first_words;  // the report up to the plugin's name
};

class IntegrationFaultReport : public ::testing::TestWithParam<Fault> {};

TEST_P(IntegrationFaultReport, NamesThePluginAndTheRouteThenDiesOfTheSignal) {
    const Fault& fault = GetParam();
    if (KERBERUS_TEST_SANITIZED && fault.signal == SIGSEGV) {
        // AddressSanitizer stops the bad access itself (instrumented code,
        // intercepted strlen) before any signal the daemon could report.
        GTEST_SKIP() << "AddressSanitizer reports this fault itself";
    }
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().plugin_dir(fixture_plugin_dir("faults"))));
    ASSERT_EQ(get(d.url("/api/faults/ok")).status, 200);

    auto r = get(d.url(std::string("/api/faults/") + fault.route));
    EXPECT_EQ(r.status, 0) << "an answer came from a process that should be dead";
    EXPECT_EQ(d.wait_exit(5s), 128 + fault.signal);

    auto lines = d.log_lines_with({"kerberusd: fatal signal"});
    ASSERT_EQ(lines.size(), 1u) << d.log();
    const std::string& line = lines.front();
    std::string file = find_plugin_file(fixture_plugin_dir("faults"), "fixture_faults").string();
    EXPECT_NE(line.find(fault.first_words), std::string::npos) << line;
    EXPECT_NE(line.find("faults 1.0.0 (" + file), std::string::npos) << line;
    EXPECT_NE(line.find(std::string("while plugin faults served GET /api/faults/") + fault.route + " (route GET /" +
                        fault.route + ")"),
              std::string::npos)
        << line;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, IntegrationFaultReport,
    ::testing::Values(Fault{"null", SIGSEGV, "fatal signal SIGSEGV (invalid access to address 0x0) in plugin faults"},
                      Fault{"strlen", SIGSEGV, "fatal signal SIGSEGV (invalid access to address 0x0) in code called by plugin faults"},
                      Fault{"abort", SIGABRT, "fatal signal SIGABRT in code called by plugin faults"}),
    [](const ::testing::TestParamInfo<Fault>& info) { return std::string(info.param.route); });

}  // namespace
