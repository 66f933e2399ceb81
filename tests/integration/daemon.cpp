#include "daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kerberus::test {

namespace fs = std::filesystem;

fs::path kerberusd_path() { return KERBERUSD_PATH; }
fs::path bundled_plugin_dir() { return KERBERUS_BUNDLED_PLUGIN_DIR; }
fs::path fixture_plugin_dir(std::string_view name) { return fs::path(KERBERUS_FIXTURE_PLUGIN_ROOT) / name; }
fs::path test_fixture(std::string_view relative) { return fs::path(KERBERUS_TEST_FIXTURES) / relative; }
fs::path send_gate_path() { return KERBERUS_SEND_GATE_PATH; }

fs::path find_plugin_file(const fs::path& dir, std::string_view prefix) {
    fs::path found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (!entry.is_regular_file() || !entry.path().filename().string().starts_with(prefix)) continue;
        if (!found.empty()) return {};
        found = entry.path();
    }
    return found;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string sha256sum(const fs::path& file) {
    std::string command = "sha256sum '" + file.string() + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    char hex[65] = {};
    if (pipe == nullptr || std::fread(hex, 1, 64, pipe) != 64) hex[0] = '\0';
    if (pipe) ::pclose(pipe);
    return hex;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        auto end = text.find('\n');
        lines.emplace_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// ---------------------------------------------------------------------------

ConfigBuilder::ConfigBuilder() {
    server_ = {{"listen", "\"127.0.0.1:0\""}, {"workers", "2"}};
    admin_ = {{"listen", "\"127.0.0.1:0\""}};
    // Tests of other things call routes without tokens; auth tests replace
    // this section with their own.
    sections_ = {{"auth", "{ dangerouslyDisableDefaultAuthPolicy: true }"}};
}

namespace {

void set_key(std::vector<std::pair<std::string, std::string>>& pairs, std::string key, std::string value) {
    for (auto& [k, v] : pairs) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    pairs.emplace_back(std::move(key), std::move(value));
}

}  // namespace

ConfigBuilder& ConfigBuilder::admin(std::string key, std::string value) {
    set_key(admin_, std::move(key), std::move(value));
    return *this;
}

ConfigBuilder& ConfigBuilder::section(std::string name, std::string flow_map) {
    set_key(sections_, std::move(name), std::move(flow_map));
    return *this;
}

ConfigBuilder& ConfigBuilder::server(std::string key, std::string value) {
    set_key(server_, std::move(key), std::move(value));
    return *this;
}

ConfigBuilder& ConfigBuilder::log_level(std::string level) {
    log_level_ = std::move(level);
    return *this;
}

ConfigBuilder& ConfigBuilder::plugin_dir(fs::path dir) {
    dirs_.push_back(std::move(dir));
    return *this;
}

ConfigBuilder& ConfigBuilder::plugin(std::string id, std::string body) {
    plugins_.emplace_back(std::move(id), std::move(body));
    return *this;
}

std::string ConfigBuilder::yaml() const {
    std::ostringstream y;
    y << "server:\n";
    for (const auto& [key, value] : server_) y << "  " << key << ": " << value << "\n";
    y << "admin:\n";
    for (const auto& [key, value] : admin_) y << "  " << key << ": " << value << "\n";
    for (const auto& [name, body] : sections_) y << name << ": " << body << "\n";
    y << "logging:\n  level: " << log_level_ << "\n";
    y << "plugin_directories:\n";
    for (const auto& dir : dirs_) y << "  - \"" << dir.string() << "\"\n";
    if (dirs_.empty()) y << "  []\n";
    if (!plugins_.empty()) {
        y << "plugins:\n";
        for (const auto& [id, body] : plugins_) y << "  " << id << ": { " << body << " }\n";
    }
    return y.str();
}

ConfigBuilder bundled_config() { return ConfigBuilder().plugin_dir(bundled_plugin_dir()); }

// ---------------------------------------------------------------------------

Daemon::Daemon() {
    std::string pattern = (fs::temp_directory_path() / "kerberus-it-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    dir_ = pattern;
    // A Rust plugin's panic with RUST_BACKTRACE set symbolises a backtrace
    // into caches the Rust runtime never frees, which LeakSanitizer reports
    // once the plugin is unloaded.
    if (KERBERUS_TEST_SANITIZED) set_env("RUST_BACKTRACE", "0");
}

Daemon::~Daemon() {
    kill_and_reap();
    // The daemon's own account is the first thing to read when a test fails.
    if (::testing::Test::HasFailure()) {
        std::string err = log();
        constexpr std::size_t kTail = 16 * 1024;
        if (err.size() > kTail) err = "...\n" + err.substr(err.size() - kTail);
        std::cerr << "---- kerberusd stderr (" << dir_.string() << ") ----\n"
                  << err << "---- kerberusd stdout ----\n"
                  << out() << "---- end ----\n";
    }
    std::error_code ec;
    if (std::getenv("KERBERUS_KEEP_TEST_DIRS") == nullptr) fs::remove_all(dir_, ec);
}

fs::path Daemon::write_file(const std::string& name, std::string_view content) const {
    fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
}

fs::path Daemon::write_config(const ConfigBuilder& config, const std::string& name) const {
    return write_file(name, config.yaml());
}

void Daemon::set_env(std::string name, std::string value) {
    // A later setting of a name replaces the earlier one.
    std::erase_if(env_, [&](const std::string& entry) { return entry.rfind(name + "=", 0) == 0; });
    // Under AddressSanitizer a preloaded library (the send gate) comes
    // before its runtime, which it refuses unless told not to check.
    if (KERBERUS_TEST_SANITIZED && name == "LD_PRELOAD") add_asan_option("verify_asan_link_order=0");
    env_.push_back(std::move(name) + "=" + value);
}

void Daemon::add_asan_option(const std::string& option) {
    std::string options;
    for (const auto& entry : env_) {
        if (entry.rfind("ASAN_OPTIONS=", 0) == 0) options = entry.substr(13);
    }
    if (options.empty()) {
        const char* inherited = std::getenv("ASAN_OPTIONS");
        options = inherited ? inherited : "";
    }
    set_env("ASAN_OPTIONS", options + (options.empty() ? "" : ":") + option);
}

long Daemon::status_kib(std::string_view field) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':')
            return std::stol(line.substr(field.size() + 1));
    }
    return -1;
}

std::string Daemon::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string Daemon::admin_url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(admin_port_) + std::string(path);
}

std::string Daemon::log() const { return read_file(dir_ / "stderr.log"); }
std::string Daemon::out() const { return read_file(dir_ / "stdout.log"); }

std::vector<std::string> Daemon::log_lines_with(const std::vector<std::string>& needles) const {
    std::vector<std::string> hits;
    for (auto& line : split_lines(log())) {
        bool all = true;
        for (const auto& needle : needles) all = all && line.find(needle) != std::string::npos;
        if (all) hits.push_back(std::move(line));
    }
    return hits;
}

bool Daemon::wait_for_log(const std::vector<std::string>& needles, Millis timeout) const {
    auto deadline = Clock::now() + timeout;
    while (true) {
        if (!log_lines_with(needles).empty()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
}

void Daemon::spawn(const std::vector<std::string>& args) {
    kill_and_reap();
    exit_status_.reset();
    port_ = 0;
    admin_port_ = 0;

    // Everything the child needs is prepared here: between fork and exec only
    // async-signal-safe calls are allowed.
    std::string exe = kerberusd_path().string();
    std::vector<std::string> storage{exe};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // The test's environment; a name given to set_env() replaces its entry.
    auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    std::vector<std::string> env_storage = env_;
    for (char** e = environ; *e != nullptr; ++e) {
        bool replaced = std::any_of(env_.begin(), env_.end(),
                                    [&](const std::string& ours) { return name_of(ours) == name_of(*e); });
        if (!replaced) env_storage.emplace_back(*e);
    }
    std::vector<char*> envp;
    for (auto& entry : env_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);

    int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = ::open((dir_ / "stdout.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = ::open((dir_ / "stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) throw std::runtime_error("cannot open capture files in " + dir_.string());

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
        // A test binary killed by a timeout must not leave daemons behind.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl{};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &dfl, nullptr);
        ::dup2(in_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    int fork_errno = errno;
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
    if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(fork_errno)));
    pid_ = pid;
}

::testing::AssertionResult Daemon::start(const std::vector<std::string>& args, Millis ready_timeout) {
    spawn(args);
    static const std::regex serving(R"(serving on https?://127\.0\.0\.1:([0-9]+))");
    auto deadline = Clock::now() + ready_timeout;
    while (true) {
        std::smatch m;
        std::string err = log();
        if (std::regex_search(err, m, serving)) {
            port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
            static const std::regex admin(R"(admin surface on http://127\.0\.0\.1:([0-9]+))");
            if (std::regex_search(err, m, admin)) admin_port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
            return ::testing::AssertionSuccess();
        }
        if (!running()) {
            return ::testing::AssertionFailure()
                   << "kerberusd exited with status " << exit_status_.value_or(-1) << " before serving; stderr:\n"
                   << err;
        }
        if (Clock::now() >= deadline) {
            return ::testing::AssertionFailure() << "kerberusd did not log 'serving on' within " << ready_timeout.count()
                                                 << " ms; stderr:\n"
                                                 << err;
        }
        std::this_thread::sleep_for(10ms);
    }
}

::testing::AssertionResult Daemon::start(const ConfigBuilder& config, Millis ready_timeout) {
    return start({"--config", write_config(config).string()}, ready_timeout);
}

RunResult Daemon::run_to_exit(const std::vector<std::string>& args, Millis timeout) {
    spawn(args);
    RunResult result;
    result.status = wait_exit(timeout);
    if (!result.status) kill_and_reap();
    result.out = out();
    result.err = log();
    return result;
}

void Daemon::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

bool Daemon::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
}

ExitStatus Daemon::wait_exit(Millis timeout) {
    auto deadline = Clock::now() + timeout;
    while (running()) {
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
    return exit_status_;
}

namespace {

std::size_t reload_outcomes(const Daemon& d) {
    return d.log_lines_with({"reloaded:"}).size() + d.log_lines_with({"reload failed"}).size();
}

}  // namespace

::testing::AssertionResult reload(Daemon& d) {
    std::size_t before = reload_outcomes(d);
    d.signal(SIGHUP);
    auto until = Clock::now() + 10s;
    while (Clock::now() < until) {
        if (reload_outcomes(d) > before) return ::testing::AssertionSuccess();
        std::this_thread::sleep_for(10ms);
    }
    return ::testing::AssertionFailure() << "no reload outcome logged\n" << d.log();
}

void Daemon::kill_and_reap() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_status_ = 128 + SIGKILL;
    pid_ = -1;
}

}  // namespace kerberus::test
