#include "admin/health_routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kerberus::admin {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

bool is_liveness(std::string_view path) {
    return path == "/.kerberus/health/v1/liveness" || path == "/.backstage/health/v1/liveness";
}
bool is_readiness(std::string_view path) {
    return path == "/.kerberus/health/v1/readiness" || path == "/.backstage/health/v1/readiness";
}

void string_member(Writer& w, const char* name, std::string_view value) {
    w.Key(name);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string message_of(const DaemonSnapshot& snapshot, const PluginInstance& plugin) {
    for (const auto& p : snapshot.stopping) {
        if (p.get() == &plugin) return "replaced by a reload; finishing its requests";
    }
    if (plugin.state() == PluginState::running) {
        PluginHealth health = plugin.health();
        return health.status == PluginHealth::Status::unhealthy ? health.message : "";
    }
    return plugin.error();
}

std::string readiness_body(const DaemonSnapshot& snapshot, const Readiness& r) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    string_member(w, "status", r.ready ? "ok" : "error");
    string_member(w, "message", r.message);
    w.Key("plugins");
    w.StartArray();
    for (const auto& p : snapshot.instances) {
        w.StartObject();
        string_member(w, "id", p->id());
        string_member(w, "state", shown_state(snapshot, *p));
        w.Key("required");
        w.Bool(p->settings().required);
        string_member(w, "message", message_of(snapshot, *p));
        w.EndObject();
    }
    for (const auto& p : snapshot.stopping) {
        w.StartObject();
        string_member(w, "id", p->id());
        string_member(w, "state", "stopping");
        w.Key("required");
        w.Bool(p->settings().required);
        string_member(w, "message", message_of(snapshot, *p));
        w.EndObject();
    }
    for (const auto& id : snapshot.disabled) {
        w.StartObject();
        string_member(w, "id", id);
        string_member(w, "state", "disabled");
        w.Key("required");
        w.Bool(false);
        string_member(w, "message", "disabled in the configuration");
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

const char* shown_state(const DaemonSnapshot& snapshot, const PluginInstance& plugin) {
    for (const auto& p : snapshot.stopping) {
        if (p.get() == &plugin) return "stopping";
    }
    switch (plugin.state()) {
        case PluginState::running:
            return plugin.health().status == PluginHealth::Status::unhealthy ? "unhealthy" : "running";
        case PluginState::stopped: return "stopping";
        case PluginState::loaded:
        case PluginState::failed: break;
    }
    return "failed";
}

Readiness readiness(const DaemonSnapshot& snapshot, bool serving) {
    if (snapshot.draining) return {false, "shutting down"};
    if (snapshot.starting || !serving) return {false, "starting: not every enabled plugin has been initialised yet"};
    bool any_running = false;
    for (const auto& p : snapshot.instances) {
        std::string_view state = shown_state(snapshot, *p);
        if (state == "running") any_running = true;
        if (p->settings().required && state != "running") {
            return {false, "required plugin " + p->id() + " is " + std::string(state)};
        }
    }
    if (!snapshot.instances.empty() && !any_running) {
        return {false, "no plugin is running (" + std::to_string(snapshot.instances.size()) + " enabled)"};
    }
    return {true, "ok"};
}

http::HostRoutes health_routes(const DaemonView& view) {
    return [&view](http::Dispatcher& dispatcher, http::Exchange& ex) {
        std::string_view path = ex.raw_path();
        if (is_liveness(path)) {
            dispatcher.answer(ex, 200, "application/json", R"({"status":"ok"})");
            return http::HostAnswer::answered;
        }
        if (!is_readiness(path)) return http::HostAnswer::not_mine;
        auto snapshot = view.snapshot();
        Readiness r = readiness(*snapshot, dispatcher.ready());
        dispatcher.answer(ex, r.ready ? 200 : 503, "application/json", readiness_body(*snapshot, r));
        return http::HostAnswer::answered;
    };
}

}  // namespace kerberus::admin
