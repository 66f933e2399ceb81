// kerberusd: command line -> configuration -> daemon. Nothing else lives here.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/fault_report.h"
#include "config/config.h"
#include "kerberus/plugin.h"
#include "ops/daemon.h"
#include "ops/logging.h"
#include "ops/signals.h"

namespace {

// The configuration kerberusd was installed with: <sysconfdir>/kerberus for
// the prefix its binary lies in (GNUInstallDirs' rule: /usr/bin -> /etc,
// /opt/<x>/bin -> /etc/opt/<x>, <prefix>/bin -> <prefix>/etc), kerberus.yaml
// and, when it exists, local.yaml on top, as the systemd unit layers them.
std::vector<std::string> default_configs() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::string dir = "/etc/kerberus";
    if (!ec && exe.parent_path().filename() == "bin") {
        std::string prefix = exe.parent_path().parent_path().string();
        if (prefix != "/usr" && prefix != "/") {
            dir = prefix.rfind("/opt/", 0) == 0 ? "/etc" + prefix + "/kerberus" : prefix + "/etc/kerberus";
        }
    }
    std::vector<std::string> files{dir + "/kerberus.yaml"};
    if (fs::exists(dir + "/local.yaml", ec)) files.push_back(dir + "/local.yaml");
    return files;
}

void print_help() {
    std::printf(
        "Usage: kerberusd [--config FILE]... [--check]\n"
        "\n"
        "Hosts kerberus plugins (.so files with the kerberus plugin ABI) and serves\n"
        "their routes under /api/<plugin>/.\n"
        "\n"
        "  -c, --config FILE  configuration file; repeat to layer files (later files\n"
        "                     win, maps merge deeply). Default: %s\n"
        "                     (and local.yaml beside it, when it exists)\n"
        "  -t, --check        validate the configuration, load and ABI-check every\n"
        "                     plugin, print the plugin table and exit (0 = ok)\n"
        "  -v, --version      print the daemon and plugin ABI versions\n"
        "  -h, --help         this text\n"
        "\n"
        "Signals: SIGHUP re-reads the configuration and rescans the plugin directories;\n"
        "SIGTERM and SIGINT stop accepting, let in-flight requests finish and exit.\n"
        "\n"
        "Exit codes: 0 ok, 1 startup failed, 64 usage error, 78 configuration error.\n",
        default_configs().front().c_str());
}

struct Options {
    std::vector<std::string> configs;
    bool check = false;
};

// Returns -1 to go on, or an exit code.
int parse(int argc, char** argv, Options& out) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            print_help();
            return kerberus::ops::kExitOk;
        }
        if (arg == "-v" || arg == "--version") {
            std::printf("kerberusd %s (plugin ABI %d.%d)\n", KERBERUS_VERSION, KERBERUS_ABI_MAJOR, KERBERUS_ABI_MINOR);
            return kerberus::ops::kExitOk;
        }
        if (arg == "-t" || arg == "--check") {
            out.check = true;
        } else if (arg == "-c" || arg == "--config") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "kerberusd: %s needs a file name\n", arg.c_str());
                return kerberus::ops::kExitUsage;
            }
            out.configs.emplace_back(argv[++i]);
        } else if (arg.rfind("--config=", 0) == 0) {
            out.configs.push_back(arg.substr(std::strlen("--config=")));
        } else {
            std::fprintf(stderr, "kerberusd: unknown argument '%s' (see --help)\n", arg.c_str());
            return kerberus::ops::kExitUsage;
        }
    }
    if (out.configs.empty()) out.configs = default_configs();
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    kerberus::fault_report::install();
    kerberus::ops::block_signals();
    Options options;
    if (int code = parse(argc, argv, options); code >= 0) return code;

    auto log = kerberus::ops::host_logger();
    int code;
    try {
        kerberus::config::Config config = kerberus::config::load(options.configs);
        kerberus::ops::set_host_level(config.log.level);
        code = options.check ? kerberus::ops::check(config) : kerberus::ops::serve(config, options.configs);
    } catch (const kerberus::config::ConfigError& e) {
        log->critical("configuration error: {}", e.what());
        code = kerberus::ops::kExitConfig;
    } catch (const std::exception& e) {
        log->critical("{}", e.what());
        code = kerberus::ops::kExitFailure;
    }
    spdlog::shutdown();
    return code;
}
