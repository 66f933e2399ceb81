// The admin surface: metrics, the plugin inventory, the OpenAPI document,
// runtime log levels, a reload trigger and the dashboard, on a listener of
// its own (admin.listen, 127.0.0.1:7008 by default, or a Unix socket),
// never on the public one.
//
//   GET  /metrics                        Prometheus text format 0.0.4
//   GET  /v1/plugins                     the inventory (JSON)
//   GET  /v1/openapi.json                OpenAPI 3.1 of every plugin route
//   GET  /v1/stats                       counters for the dashboard (JSON)
//   GET  /v1/plugins/{id}/log-level      {"plugin":..,"level":..}
//   PUT  /v1/plugins/{id}/log-level      body: a level name; until the next reload
//   POST /v1/reload                      answers once the reload is done
//   GET  /                               the dashboard (and its assets)
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "admin/daemon_view.h"
#include "http/dispatcher.h"

namespace kerberus::admin {

class AdminSurface {
public:
    // `request_reload` asks the main thread for a reload (it raises SIGHUP).
    AdminSurface(const DaemonView& view, std::function<void()> request_reload);

    // `token` (admin.token): every request must carry it as a bearer
    // token, or gets 401; empty: none is asked for.
    http::HostRoutes routes(const std::string& token = {});

    // Main thread, after a reload (ok) or its rejection: answers the
    // POST /v1/reload requests waiting for it.
    void reload_finished(bool ok, const std::string& message);

private:
    http::HostAnswer serve(http::Dispatcher& dispatcher, http::Exchange& ex);
    http::HostAnswer log_level(http::Dispatcher& dispatcher, http::Exchange& ex, std::string_view id);

    const DaemonView& view_;
    std::function<void()> request_reload_;
    std::mutex mutex_;
    std::vector<std::pair<http::Dispatcher*, http::Exchange*>> waiting_reload_;
};

}  // namespace kerberus::admin
