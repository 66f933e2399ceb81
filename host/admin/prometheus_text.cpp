#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <sys/resource.h>
#include <unistd.h>

#include "admin/documents.h"
#include "admin/health_routes.h"
#include "metrics/registry.h"
#include "tls/acceptor.h"

namespace kerberus::admin {
namespace {

using metrics::TextWriter;

double epoch_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void plugin_state(TextWriter& out, const DaemonSnapshot& s) {
    out.family("kerberus_plugin_up", "gauge", "1 while the plugin's instance runs (healthy or not), else 0.");
    for (const auto& p : s.instances) {
        out.sample("kerberus_plugin_up", {{"plugin", p->id()}}, p->state() == PluginState::running ? 1.0 : 0.0);
    }
    for (const auto& id : s.disabled) out.sample("kerberus_plugin_up", {{"plugin", id}}, 0.0);

    out.family("kerberus_plugin_info", "gauge", "The plugin file each instance runs; always 1.");
    for (const auto& p : s.instances) {
        if (!p->has_file()) continue;
        const PluginFile& f = p->file();
        out.sample("kerberus_plugin_info",
                   {{"plugin", p->id()}, {"version", f.version.str()}, {"abi", f.abi()}, {"sha256", f.copy->sha256()}},
                   1.0);
    }

    out.family("kerberus_plugin_healthy", "gauge",
               "1 when the running plugin's last health check passed (or it has none), 0 when it failed or is overdue.");
    for (const auto& p : s.instances) {
        if (p->state() != PluginState::running) continue;
        bool unhealthy = p->health().status == PluginHealth::Status::unhealthy;
        out.sample("kerberus_plugin_healthy", {{"plugin", p->id()}}, unhealthy ? 0.0 : 1.0);
    }
}

void reloads(TextWriter& out, const DaemonSnapshot& s) {
    out.family("kerberus_config_reloads_total", "counter",
               "Reloads (SIGHUP or the admin surface), by result: success, or rejected when the new "
               "configuration did not validate and nothing changed.");
    out.sample("kerberus_config_reloads_total", {{"result", "success"}}, s.reload.successes);
    out.sample("kerberus_config_reloads_total", {{"result", "rejected"}}, s.reload.rejections);
    out.family("kerberus_config_last_reload_successful", "gauge", "1 when the last reload (or startup) succeeded.");
    out.sample("kerberus_config_last_reload_successful", {}, s.reload.last_ok ? 1.0 : 0.0);
    out.family("kerberus_config_last_reload_success_timestamp_seconds", "gauge",
               "When the configuration was last loaded successfully (startup counts), in Unix seconds.");
    auto last = s.reload.last_success == std::chrono::system_clock::time_point{} ? s.started_at : s.reload.last_success;
    out.sample("kerberus_config_last_reload_success_timestamp_seconds", {}, epoch_seconds(last));
}

// /proc/self/stat fields 14 and 15 (utime, stime), in clock ticks.
double cpu_seconds() {
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field && i <= 15; ++i) {
        if (i == 14 || i == 15) ticks += std::stod(field);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void process(TextWriter& out, const DaemonSnapshot& s) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long size = 0, resident = 0;
    if (std::ifstream statm("/proc/self/statm"); statm) statm >> size >> resident;
    out.family("kerberus_process_resident_memory_bytes", "gauge", "Resident memory of the kerberusd process.");
    out.sample("kerberus_process_resident_memory_bytes", {}, static_cast<uint64_t>(resident * page));
    out.family("kerberus_process_virtual_memory_bytes", "gauge", "Virtual memory of the kerberusd process.");
    out.sample("kerberus_process_virtual_memory_bytes", {}, static_cast<uint64_t>(size * page));
    std::error_code ec;
    uint64_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != decltype(it){}; it.increment(ec)) {
        ++fds;
    }
    out.family("kerberus_process_open_fds", "gauge", "Open file descriptors (client connections hold one each).");
    out.sample("kerberus_process_open_fds", {}, fds);
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    out.family("kerberus_process_max_fds", "gauge", "The open-file limit (RLIMIT_NOFILE, LimitNOFILE= under systemd).");
    out.sample("kerberus_process_max_fds", {}, static_cast<uint64_t>(limit.rlim_cur));
    out.family("kerberus_process_cpu_seconds_total", "counter", "User and system CPU time the process used.");
    out.sample("kerberus_process_cpu_seconds_total", {}, cpu_seconds());
    out.family("kerberus_process_start_time_seconds", "gauge", "When the process started, in Unix seconds.");
    out.sample("kerberus_process_start_time_seconds", {}, epoch_seconds(s.started_at));
}

}  // namespace

std::string prometheus_text(const DaemonSnapshot& s, bool ready) {
    std::string text;
    TextWriter out(text);
    out.family("kerberus_build_info", "gauge", "The daemon's version and the plugin ABI it provides; always 1.");
    out.sample("kerberus_build_info", {{"version", KERBERUS_VERSION}, {"abi", host_abi()}}, 1.0);
    out.family("kerberus_ready", "gauge", "1 when readiness answers 200 (see the readiness endpoint), else 0.");
    out.sample("kerberus_ready", {}, readiness(s, ready).ready ? 1.0 : 0.0);
    plugin_state(out, s);
    reloads(out, s);
    out.family("kerberus_tls_handshake_failures_total", "counter",
               "TLS handshakes on the listener that failed or did not finish within server.header_timeout "
               "(plain HTTP sent to the TLS port, unsupported protocol versions, missing or unverifiable client "
               "certificates, garbage). The reasons are logged at debug.");
    out.sample("kerberus_tls_handshake_failures_total", {}, tls::handshake_failures());
    process(out, s);
    metrics::Registry::instance().write(out);
    return text;
}

}  // namespace kerberus::admin
