#include "admin/admin_surface.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "admin/dashboard_assets.h"
#include "admin/documents.h"
#include "auth/access_control.h"
#include "http/error_body.h"

namespace kerberus::admin {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kPluginsPrefix = "/v1/plugins/";
constexpr std::string_view kLogLevelSuffix = "/log-level";

std::string level_json(std::string_view id, std::string_view level) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("plugin");
    w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.Key("level");
    w.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

const std::shared_ptr<PluginInstance>* find_instance(const DaemonSnapshot& s, std::string_view id) {
    for (const auto& p : s.instances) {
        if (p->id() == id) return &p;
    }
    return nullptr;
}

}  // namespace

AdminSurface::AdminSurface(const DaemonView& view, std::function<void()> request_reload)
    : view_(view), request_reload_(std::move(request_reload)) {}

http::HostRoutes AdminSurface::routes(const std::string& token) {
    if (token.empty()) {
        return [this](http::Dispatcher& dispatcher, http::Exchange& ex) { return serve(dispatcher, ex); };
    }
    return [this, expected = auth::BearerToken(token)](http::Dispatcher& dispatcher, http::Exchange& ex) {
        std::optional<std::string_view> field = ex.header("authorization");
        if (!expected.accepts(field ? &*field : nullptr)) {
            dispatcher.answer_error(ex, metrics::HostReason::unauthenticated,
                                    field ? "invalid admin token" : "the admin surface needs Authorization: Bearer <admin.token>",
                                    field ? "Bearer error=\"invalid_token\"" : "Bearer");
            return http::HostAnswer::answered;
        }
        return serve(dispatcher, ex);
    };
}

http::HostAnswer AdminSurface::serve(http::Dispatcher& dispatcher, http::Exchange& ex) {
    std::string_view path = ex.raw_path();
    std::string_view method = ex.method();
    bool read = method == "GET" || method == "HEAD";
    auto not_allowed = [&](std::string_view allow) {
        dispatcher.answer_error(ex, metrics::HostReason::method_not_allowed,
                                "method " + std::string(method) + " not allowed; allowed: " + std::string(allow),
                                allow);
        return http::HostAnswer::answered;
    };

    if (path.size() > kPluginsPrefix.size() && path.substr(0, kPluginsPrefix.size()) == kPluginsPrefix &&
        path.size() > kLogLevelSuffix.size() && path.substr(path.size() - kLogLevelSuffix.size()) == kLogLevelSuffix) {
        std::string_view id = path.substr(kPluginsPrefix.size(),
                                          path.size() - kPluginsPrefix.size() - kLogLevelSuffix.size());
        return log_level(dispatcher, ex, id);
    }
    if (path == "/v1/reload") {
        if (method != "POST") return not_allowed("POST");
        ex.add_response_header("Content-Type", kJson);
        http::HostAnswer kept = dispatcher.keep(ex);
        if (kept == http::HostAnswer::kept) {
            {
                std::lock_guard lock(mutex_);
                waiting_reload_.emplace_back(&dispatcher, &ex);
            }
            request_reload_();
        }
        return kept;
    }

    auto snapshot = view_.snapshot();
    std::string body;
    std::string_view type = kJson;
    if (path == "/metrics") {
        body = prometheus_text(*snapshot, snapshot->draining ? false : !snapshot->starting);
        type = kPrometheus;
    } else if (path == "/v1/plugins") {
        body = inventory_json(*snapshot);
    } else if (path == "/v1/openapi.json") {
        body = openapi_json(*snapshot);
    } else if (path == "/v1/stats") {
        body = stats_json(*snapshot, snapshot->draining ? false : !snapshot->starting);
    } else if (const DashboardAsset* asset = dashboard_asset(path)) {
        if (!read) return not_allowed("GET, HEAD");
        ex.add_response_header("Cache-Control", "no-cache");
        dispatcher.answer(ex, 200, asset->content_type, asset->body);
        return http::HostAnswer::answered;
    } else {
        return http::HostAnswer::not_mine;
    }
    if (!read) return not_allowed("GET, HEAD");
    ex.add_response_header("Cache-Control", "no-store");
    dispatcher.answer(ex, 200, type, body);
    return http::HostAnswer::answered;
}

http::HostAnswer AdminSurface::log_level(http::Dispatcher& dispatcher, http::Exchange& ex, std::string_view id) {
    auto snapshot = view_.snapshot();
    const auto* plugin = find_instance(*snapshot, id);
    if (plugin == nullptr) {
        dispatcher.answer_error(ex, metrics::HostReason::no_plugin, "no plugin \"" + std::string(id) + "\" is enabled");
        return http::HostAnswer::answered;
    }
    spdlog::logger& logger = (*plugin)->logger();
    if (ex.method() == "PUT") {
        std::string name = trim(ex.body());
        auto level = name == "warn" ? spdlog::level::warn : spdlog::level::from_str(name);
        // from_str gives "off" for any name it does not know.
        if (level == spdlog::level::off && name != "off") {
            dispatcher.answer_error(ex, metrics::HostReason::bad_request,
                                    "expected one of trace, debug, info, warn, error, critical, off; got \"" + name + "\"");
            return http::HostAnswer::answered;
        }
        logger.set_level(level);
        logger.info("log level set to {} from the admin surface (until the next reload)", name);
    } else if (ex.method() != "GET" && ex.method() != "HEAD") {
        dispatcher.answer_error(ex, metrics::HostReason::method_not_allowed,
                                "method " + std::string(ex.method()) + " not allowed; allowed: GET, HEAD, PUT",
                                "GET, HEAD, PUT");
        return http::HostAnswer::answered;
    }
    auto name = spdlog::level::to_string_view(logger.level());
    std::string_view shown(name.data(), name.size());
    dispatcher.answer(ex, 200, kJson, level_json(id, shown == "warning" ? "warn" : shown));
    return http::HostAnswer::answered;
}

void AdminSurface::reload_finished(bool ok, const std::string& message) {
    std::vector<std::pair<http::Dispatcher*, http::Exchange*>> waiting;
    {
        std::lock_guard lock(mutex_);
        waiting.swap(waiting_reload_);
    }
    if (waiting.empty()) return;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("result");
    w.String(ok ? "success" : "rejected");
    w.Key("message");
    w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    std::string body(buffer.GetString(), buffer.GetSize());
    // A rejected configuration is the request's content failing to apply.
    for (auto [dispatcher, ex] : waiting) dispatcher->respond(*ex, ok ? 200 : 422, body);
}

}  // namespace kerberus::admin
