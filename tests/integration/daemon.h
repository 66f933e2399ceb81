// Runs kerberusd as a child process for one test: a private temp dir holds
// the config files and the captured stdout/stderr. Every wait is bounded so a
// misbehaving daemon fails a test instead of hanging the suite.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kerberus/plugin.h"

namespace kerberus::test {

// The ABI this tree's kerberusd provides: "1.1", and "ABI 1.1" as logs say it.
#define KERBERUS_TEST_STR2(x) #x
#define KERBERUS_TEST_STR(x) KERBERUS_TEST_STR2(x)
inline const std::string kHostAbi = KERBERUS_TEST_STR(KERBERUS_ABI_MAJOR) "." KERBERUS_TEST_STR(KERBERUS_ABI_MINOR);
inline const std::string kHostAbiText = "ABI " + kHostAbi;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Milliseconds since `start`, as a number gtest prints readably.
inline long long elapsed_ms(Clock::time_point start) {
    return std::chrono::duration_cast<Millis>(Clock::now() - start).count();
}

// Where the build put things (compile definitions from tests/CMakeLists.txt).
std::filesystem::path kerberusd_path();
std::filesystem::path bundled_plugin_dir();
// The output directory of one fixture plugin, tests/fixtures/plugins/<name>.
std::filesystem::path fixture_plugin_dir(std::string_view name);
// tests/fixtures/<relative>.
std::filesystem::path test_fixture(std::string_view relative);
// The library tests preload into kerberusd to hold an answer's thread just
// after its bytes went out (tests/fixtures/send-gate).
std::filesystem::path send_gate_path();
// The single regular file in `dir` whose name starts with `prefix` (empty path if
// there is none or more than one), so tests need not spell out versions.
std::filesystem::path find_plugin_file(const std::filesystem::path& dir, std::string_view prefix);

// Builds a kerberusd YAML config from parts. Server settings default to what
// tests need (ephemeral port, two workers); everything else is opt-in.
class ConfigBuilder {
public:
    ConfigBuilder();

    ConfigBuilder& server(std::string key, std::string value);
    // admin.<key>; listen defaults to 127.0.0.1:0 so tests run side by side.
    ConfigBuilder& admin(std::string key, std::string value);
    // Top-level sections written as given ("access_log", "{ enabled: true }").
    // `auth` starts as { dangerouslyDisableDefaultAuthPolicy: true }: set it
    // to test authentication.
    ConfigBuilder& section(std::string name, std::string flow_map);
    ConfigBuilder& log_level(std::string level);
    ConfigBuilder& plugin_dir(std::filesystem::path dir);
    // `body` is the YAML flow-map content of plugins.<id>, e.g.
    // "required: true, config: { greeting: Howdy }".
    ConfigBuilder& plugin(std::string id, std::string body);

    std::string yaml() const;

private:
    std::vector<std::pair<std::string, std::string>> server_;
    std::vector<std::pair<std::string, std::string>> admin_;
    std::vector<std::pair<std::string, std::string>> sections_;
    std::string log_level_ = "info";
    std::vector<std::filesystem::path> dirs_;
    std::vector<std::pair<std::string, std::string>> plugins_;
};

// A config loading only the bundled plugins (hello, echo).
ConfigBuilder bundled_config();

// How a process ended; nullopt from wait functions means it did not end in
// time. A signal death is reported as 128 + signal number, like a shell.
using ExitStatus = std::optional<int>;

struct RunResult {
    ExitStatus status;
    std::string out;  // stdout
    std::string err;  // stderr
};

class Daemon {
public:
    Daemon();
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    // Writes `content` to dir()/name and returns the full path.
    std::filesystem::path write_file(const std::string& name, std::string_view content) const;
    std::filesystem::path write_config(const ConfigBuilder& config, const std::string& name = "kerberus.yaml") const;
    // Adds NAME=value to the environment of the daemons started from now on.
    void set_env(std::string name, std::string value);
    // Adds NAME=value to ASAN_OPTIONS (the test's own, if any, included)
    // for the daemons started from now on.
    void add_asan_option(const std::string& option);

    // Spawns kerberusd with `args` and waits for its "serving on" line.
    ::testing::AssertionResult start(const std::vector<std::string>& args, Millis ready_timeout = 10s);
    // Writes the config and starts with --config on it.
    ::testing::AssertionResult start(const ConfigBuilder& config, Millis ready_timeout = 10s);

    // Spawns kerberusd and waits for it to exit on its own (for --check,
    // --version, failing configs). Kills it when `timeout` passes.
    RunResult run_to_exit(const std::vector<std::string>& args, Millis timeout = 10s);

    uint16_t port() const { return port_; }
    // The admin listener's port (0 when it is off or on a Unix socket).
    uint16_t admin_port() const { return admin_port_; }
    // "http://127.0.0.1:<admin port><path>"
    std::string admin_url(std::string_view path) const;
    // "http://127.0.0.1:<port><path>"
    std::string url(std::string_view path) const;
    pid_t pid() const { return pid_; }
    // A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 if absent.
    long status_kib(std::string_view field) const;

    // The captured streams, re-read on every call.
    std::string log() const;
    std::string out() const;
    // Lines of log() containing every one of `needles`.
    std::vector<std::string> log_lines_with(const std::vector<std::string>& needles) const;
    // Polls log() until a line contains every needle.
    bool wait_for_log(const std::vector<std::string>& needles, Millis timeout = 5s) const;

    void signal(int sig) const;
    // Reaps the child; nullopt if it is still running after `timeout`.
    ExitStatus wait_exit(Millis timeout = 10s);
    bool running();

private:
    void spawn(const std::vector<std::string>& args);
    void kill_and_reap();

    std::filesystem::path dir_;
    std::vector<std::string> env_;  // NAME=value, on top of the test's own environment
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
    uint16_t port_ = 0;
    uint16_t admin_port_ = 0;
};

// Sends SIGHUP and waits until the daemon logs how the reload ended.
::testing::AssertionResult reload(Daemon& d);

// Reads a whole file; empty when it does not exist.
std::string read_file(const std::filesystem::path& path);
// What sha256sum prints for the file: 64 lower-case hex digits (empty on failure).
std::string sha256sum(const std::filesystem::path& file);
std::vector<std::string> split_lines(std::string_view text);

}  // namespace kerberus::test
