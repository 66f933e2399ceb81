#include <ctime>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "admin/documents.h"
#include "common/time_text.h"
#include "admin/events.h"
#include "admin/health_routes.h"
#include "metrics/registry.h"

namespace kerberus::admin {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void member(Writer& w, const char* name, std::string_view value) {
    w.Key(name);
    str(w, value);
}
void member_or_null(Writer& w, const char* name, std::string_view value) {
    w.Key(name);
    if (value.empty()) w.Null();
    else str(w, value);
}

std::string finish(rapidjson::StringBuffer& buffer) { return std::string(buffer.GetString(), buffer.GetSize()); }

// A plugin's config as JSON text, written as a value (it is valid JSON).
void raw_json(Writer& w, const std::string& json) {
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

void routes(Writer& w, const PluginInstance& p) {
    w.Key("routes");
    w.StartArray();
    for (std::size_t i = 0; i < p.route_count(); ++i) {
        const RouteHandler& h = p.handler(i);
        w.StartObject();
        member(w, "method", h.method);
        member(w, "pattern", h.pattern);
        member(w, "path", "/api/" + p.id() + (h.pattern == "/" ? "/" : h.pattern));
        member_or_null(w, "summary", h.summary);
        w.EndObject();
    }
    w.EndArray();
}

void health(Writer& w, const PluginInstance& p) {
    w.Key("health");
    if (!p.has_health_check() || p.state() != PluginState::running) {
        w.Null();
        return;
    }
    PluginHealth h = p.health();
    w.StartObject();
    member(w, "status", h.status == PluginHealth::Status::healthy     ? "healthy"
                        : h.status == PluginHealth::Status::unhealthy ? "unhealthy"
                                                                      : "unknown");
    member_or_null(w, "message", h.message);
    member_or_null(w, "checked_at", h.checked_at == std::chrono::system_clock::time_point{} ? "" : iso_time(h.checked_at));
    w.EndObject();
}

void instance(Writer& w, const DaemonSnapshot& s, const PluginInstance& p) {
    w.StartObject();
    member(w, "id", p.id());
    member(w, "state", shown_state(s, p));
    member_or_null(w, "error", p.state() == PluginState::running ? "" : p.error());
    w.Key("required");
    w.Bool(p.settings().required);
    if (p.has_file()) {
        const PluginFile& f = p.file();
        member(w, "version", f.version.str());
        member(w, "abi", f.abi());
        member(w, "file", f.path.string());
        member(w, "sha256", f.copy->sha256());
        member_or_null(w, "description", f.description);
    } else {
        for (const char* absent : {"version", "abi", "file", "sha256", "description"}) {
            w.Key(absent);
            w.Null();
        }
    }
    member(w, "loaded_at", iso_time(p.loaded_at()));
    w.Key("generation");
    w.Uint64(p.generation());
    health(w, p);
    routes(w, p);
    w.Key("config");
    raw_json(w, p.config().redacted_json());
    // What the plugin's settings must look like, as it declares them.
    w.Key("config_schema");
    if (p.has_file() && !p.file().config_schema.empty()) {
        rapidjson::Document schema;
        schema.Parse<rapidjson::kParseIterativeFlag>(p.file().config_schema.c_str());
        schema.Accept(w);
    } else {
        w.Null();
    }
    w.EndObject();
}

void reload_status(Writer& w, const ReloadStatus& r) {
    w.Key("reload");
    w.StartObject();
    w.Key("successes");
    w.Uint64(r.successes);
    w.Key("rejections");
    w.Uint64(r.rejections);
    member_or_null(w, "last_attempt", r.last_attempt == std::chrono::system_clock::time_point{} ? "" : iso_time(r.last_attempt));
    member_or_null(w, "last_success", r.last_success == std::chrono::system_clock::time_point{} ? "" : iso_time(r.last_success));
    w.Key("last_ok");
    w.Bool(r.last_ok);
    member_or_null(w, "last_message", r.last_message);
    w.EndObject();
}

void daemon(Writer& w, const DaemonSnapshot& s) {
    w.Key("daemon");
    w.StartObject();
    member(w, "version", KERBERUS_VERSION);
    member(w, "abi", host_abi());
    member(w, "started_at", iso_time(s.started_at));
    member(w, "public_url", s.public_url);
    member(w, "admin_url", s.admin_url);
    w.Key("config_files");
    w.StartArray();
    for (const auto& f : s.config.files) str(w, f);
    w.EndArray();
    reload_status(w, s.reload);
    w.EndObject();
}

// OpenAPI path templating: ":name" -> "{name}", a trailing "*" -> "{path}".
std::string openapi_path(const std::string& id, const std::string& pattern, std::vector<std::string>& params) {
    std::string out = "/api/" + id;
    if (pattern == "/") return out + "/";
    std::string_view rest(pattern);
    while (!rest.empty()) {
        rest.remove_prefix(1);  // '/'
        std::string_view segment = rest.substr(0, rest.find('/'));
        rest.remove_prefix(segment.size());
        if (!segment.empty() && segment.front() == ':') {
            params.emplace_back(segment.substr(1));
            out += "/{" + params.back() + "}";
        } else if (segment == "*") {
            params.emplace_back("*");
            out += "/{path}";
        } else {
            out += "/" + std::string(segment);
        }
    }
    return out;
}

void lower(std::string& s) {
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

}  // namespace

std::string inventory_json(const DaemonSnapshot& s) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    daemon(w, s);
    w.Key("plugins");
    w.StartArray();
    for (const auto& p : s.instances) instance(w, s, *p);
    for (const auto& p : s.stopping) instance(w, s, *p);
    w.EndArray();
    w.Key("files");
    w.StartArray();
    for (const FileRecord& f : s.files) {
        w.StartObject();
        member(w, "path", f.path);
        member_or_null(w, "id", f.id);
        member_or_null(w, "version", f.version);
        member_or_null(w, "abi", f.abi);
        member_or_null(w, "sha256", f.sha256);
        member(w, "state", f.state);
        member_or_null(w, "reason", f.reason);
        w.EndObject();
    }
    w.EndArray();
    w.Key("disabled");
    w.StartArray();
    for (const auto& id : s.disabled) str(w, id);
    w.EndArray();
    w.EndObject();
    return finish(buffer);
}

std::string openapi_json(const DaemonSnapshot& s) {
    // Methods per path first: OpenAPI groups operations under their path.
    struct Operation {
        std::string method;
        const PluginInstance* plugin;
        const RouteHandler* route;
        std::vector<std::string> params;
    };
    std::map<std::string, std::vector<Operation>> paths;
    for (const auto& p : s.instances) {
        if (p->state() != PluginState::running) continue;
        for (std::size_t i = 0; i < p->route_count(); ++i) {
            const RouteHandler& h = p->handler(i);
            std::vector<std::string> params;
            std::string path = openapi_path(p->id(), h.pattern, params);
            std::vector<std::string> methods;
            if (h.method == "*") methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
            else methods = {h.method};
            for (std::string m : methods) {
                lower(m);
                paths[path].push_back(Operation{m, p.get(), &h, params});
            }
        }
    }
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    member(w, "openapi", "3.1.0");
    w.Key("info");
    w.StartObject();
    member(w, "title", "kerberusd plugin routes");
    member(w, "version", KERBERUS_VERSION);
    member(w, "description",
           "Every route the running plugins registered. Errors the daemon answers itself have Backstage's "
           "ErrorResponseBody shape.");
    w.EndObject();
    w.Key("servers");
    w.StartArray();
    w.StartObject();
    member(w, "url", s.public_url);
    w.EndObject();
    w.EndArray();
    w.Key("tags");
    w.StartArray();
    for (const auto& p : s.instances) {
        if (p->state() != PluginState::running) continue;
        w.StartObject();
        member(w, "name", p->id());
        if (p->has_file() && !p->file().description.empty()) member(w, "description", p->file().description);
        w.EndObject();
    }
    w.EndArray();
    w.Key("paths");
    w.StartObject();
    for (const auto& [path, operations] : paths) {
        w.Key(path.c_str());
        w.StartObject();
        for (const Operation& op : operations) {
            w.Key(op.method.c_str());
            w.StartObject();
            w.Key("tags");
            w.StartArray();
            str(w, op.plugin->id());
            w.EndArray();
            if (!op.route->summary.empty()) member(w, "summary", op.route->summary);
            member(w, "operationId", op.plugin->id() + ":" + op.method + ":" + op.route->pattern);
            w.Key("parameters");
            w.StartArray();
            for (const auto& param : op.params) {
                w.StartObject();
                member(w, "name", param == "*" ? "path" : param);
                member(w, "in", "path");
                w.Key("required");
                w.Bool(true);
                if (param == "*") member(w, "description", "the rest of the path, any number of segments");
                w.Key("schema");
                w.StartObject();
                member(w, "type", "string");
                w.EndObject();
                w.EndObject();
            }
            w.EndArray();
            w.Key("responses");
            w.StartObject();
            w.Key("default");
            w.StartObject();
            member(w, "description", "the answer of plugin " + op.plugin->id());
            w.EndObject();
            w.EndObject();
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return finish(buffer);
}

std::string stats_json(const DaemonSnapshot& s, bool ready) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    member(w, "time", iso_time(std::chrono::system_clock::now()));
    // A different start means a new process: counters began again.
    member(w, "started_at", iso_time(s.started_at));
    w.Key("ready");
    w.Bool(readiness(s, ready).ready);
    member(w, "readiness", readiness(s, ready).message);
    w.Key("latency_bounds_seconds");
    w.StartArray();
    for (double b : metrics::DurationHistogram::bounds_seconds()) w.Double(b);
    w.EndArray();
    w.Key("plugins");
    w.StartArray();
    for (const auto& p : s.instances) {
        w.StartObject();
        member(w, "id", p->id());
        member(w, "state", shown_state(s, *p));
        w.Key("routes");
        w.StartArray();
        for (std::size_t i = 0; i < p->route_count(); ++i) {
            const RouteHandler& h = p->handler(i);
            const metrics::RouteStats& r = *h.stats;
            uint64_t requests = 0, errors = 0, client_errors = 0;
            r.for_each_count([&](std::string_view, int status, uint64_t n) {
                requests += n;
                if (status >= 500 || status == 0) errors += n;
                if (status >= 400 && status < 500) client_errors += n;
            });
            w.StartObject();
            member(w, "method", h.method);
            member(w, "pattern", h.pattern);
            w.Key("requests");
            w.Uint64(requests);
            w.Key("server_errors");
            w.Uint64(errors);
            w.Key("client_errors");
            w.Uint64(client_errors);
            w.Key("latency_buckets");
            w.StartArray();
            for (std::size_t b = 0; b <= metrics::DurationHistogram::kBounds; ++b) w.Uint64(r.duration().bucket(b));
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    reload_status(w, s.reload);
    w.Key("events");
    w.StartArray();
    for (const Event& e : Events::instance().recent()) {
        w.StartObject();
        w.Key("id");
        w.Uint64(e.id);
        member(w, "time", iso_time(e.at));
        member(w, "level", e.level);
        member(w, "source", e.source);
        member(w, "message", e.message);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return finish(buffer);
}

}  // namespace kerberus::admin
