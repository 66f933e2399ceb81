#include "metrics/registry.h"

#include <algorithm>

namespace kerberus::metrics {
namespace {

constexpr double kNanosecond = 1e-9;

}  // namespace

Registry& Registry::instance() {
    static Registry registry;
    return registry;
}

RouteStats& Registry::route(const std::string& plugin, const std::string& method, const std::string& pattern) {
    std::lock_guard lock(mutex_);
    auto& slot = routes_[{plugin, method, pattern}];
    if (!slot) slot = std::make_unique<RouteStats>(plugin, method, pattern);
    return *slot;
}

HostErrors& Registry::host_errors(const std::string& plugin) {
    std::lock_guard lock(mutex_);
    auto& slot = host_errors_[plugin];
    if (!slot) slot = std::make_unique<HostErrors>();
    return *slot;
}

Registry::FamilyResult Registry::plugin_family(const std::string& plugin, const kerberus_metric_spec& spec,
                                               PluginFamily*& out, std::string& why) {
    std::vector<std::string> labels;
    std::vector<double> bounds;
    why = check_spec(spec, labels, bounds);
    if (!why.empty()) return FamilyResult::invalid;
    std::string name = exposed_name(plugin, spec.name);
    std::lock_guard lock(mutex_);
    auto& slot = families_[name];
    if (slot) {
        if (slot->plugin != plugin || !slot->same(spec.type, spec.help, labels, bounds)) {
            why = "metric " + name + " already exists" +
                  (slot->plugin != plugin ? " (made by plugin " + slot->plugin + ")" : " with another type, help, labels or buckets");
            return FamilyResult::conflict;
        }
    } else {
        slot = std::make_unique<PluginFamily>(plugin, name, spec.type, spec.help, std::move(labels), std::move(bounds));
    }
    out = slot.get();
    return FamilyResult::ok;
}

void Registry::write(TextWriter& out) const {
    std::lock_guard lock(mutex_);

    out.family("kerberus_http_requests_total", "counter",
               "Requests answered on plugin routes, by plugin, route pattern, method and status code.");
    for (const auto& [key, r] : routes_) {
        r->for_each_count([&](std::string_view method, int status, uint64_t n) {
            std::string code = status == 0 ? "other" : std::to_string(status);
            out.sample("kerberus_http_requests_total",
                       {{"plugin", r->plugin}, {"route", r->pattern}, {"method", method}, {"code", code}}, n);
        });
    }

    out.family("kerberus_http_request_duration_seconds", "histogram",
               "Time from a request's arrival to its answer going out, by plugin and route pattern.");
    const auto& bounds = DurationHistogram::bounds_seconds();
    for (const auto& [key, r] : routes_) {
        Labels base{{"plugin", r->plugin}, {"route", r->pattern}, {"method", r->method}};
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += r->duration().bucket(i);
            Labels with_le = base;
            std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
            with_le.emplace_back("le", le);
            out.sample("kerberus_http_request_duration_seconds_bucket", with_le, cumulative);
        }
        out.sample("kerberus_http_request_duration_seconds_sum", base,
                   static_cast<double>(r->duration().sum_ns()) * kNanosecond);
        out.sample("kerberus_http_request_duration_seconds_count", base, cumulative);
    }

    out.family("kerberus_http_requests_in_flight", "gauge",
               "Requests a plugin route is serving now (handler running or answer awaited).");
    for (const auto& [key, r] : routes_) {
        out.sample("kerberus_http_requests_in_flight", {{"plugin", r->plugin}, {"route", r->pattern}, {"method", r->method}},
                   static_cast<double>(std::max<int64_t>(r->in_flight(), 0)));
    }

    out.family("kerberus_http_request_bytes_total", "counter",
               "Bytes of requests (head and body as received) answered on plugin routes.");
    for (const auto& [key, r] : routes_) {
        out.sample("kerberus_http_request_bytes_total", {{"plugin", r->plugin}, {"route", r->pattern}, {"method", r->method}},
                   r->request_bytes());
    }
    out.family("kerberus_http_response_bytes_total", "counter",
               "Bytes of answers (head and body) sent on plugin routes.");
    for (const auto& [key, r] : routes_) {
        out.sample("kerberus_http_response_bytes_total", {{"plugin", r->plugin}, {"route", r->pattern}, {"method", r->method}},
                   r->response_bytes());
    }

    out.family("kerberus_http_host_errors_total", "counter",
               "Requests the daemon answered itself with an error, by reason, status code and plugin (empty when "
               "none was involved).");
    for (const auto& [plugin, errors] : host_errors_) {
        for (std::size_t i = 0; i < kHostReasons; ++i) {
            auto reason = static_cast<HostReason>(i);
            uint64_t n = errors->count(reason);
            if (n == 0) continue;
            out.sample("kerberus_http_host_errors_total",
                       {{"plugin", plugin},
                        {"reason", reason_name(reason)},
                        {"code", std::to_string(reason_status(reason))}},
                       n);
        }
    }

    for (const auto& [name, family] : families_) family->write(out);
}

}  // namespace kerberus::metrics
