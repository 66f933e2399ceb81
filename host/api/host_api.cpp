#include "api/host_api.h"

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "http/dispatcher.h"
#include "http/exchange.h"
#include "metrics/plugin_metrics.h"
#include "outbound/client.h"
#include "plugins/plugin_instance.h"

namespace kerberus::api {
namespace {

using http::Exchange;

outbound::Client* outbound_client = nullptr;
using config::LookupResult;

// No C++ exception may unwind into plugin code: every entry point that can
// throw (allocation, spdlog formatting) is wrapped.
template <typename F>
kerberus_status guarded(F&& f) noexcept {
    try {
        return f();
    } catch (...) {
        return KERBERUS_ERR_INTERNAL;
    }
}

kerberus_str view(std::string_view s) { return kerberus_str{s.data(), s.size()}; }

spdlog::level::level_enum to_spdlog(int level) {
    switch (level) {
        case KERBERUS_LOG_TRACE: return spdlog::level::trace;
        case KERBERUS_LOG_DEBUG: return spdlog::level::debug;
        case KERBERUS_LOG_INFO: return spdlog::level::info;
        case KERBERUS_LOG_WARN: return spdlog::level::warn;
        case KERBERUS_LOG_ERROR: return spdlog::level::err;
        default: return spdlog::level::critical;
    }
}

kerberus_status lookup_status(LookupResult r) {
    switch (r) {
        case LookupResult::ok: return KERBERUS_OK;
        case LookupResult::not_found: return KERBERUS_ERR_NOT_FOUND;
        case LookupResult::wrong_type: return KERBERUS_ERR_WRONG_TYPE;
    }
    return KERBERUS_ERR_INTERNAL;
}

// --- errors and logging ---------------------------------------------------

void set_error(kerberus_plugin_ctx* ctx, const char* msg, size_t len) {
    if (!ctx || !msg) return;
    (void)guarded([&] {
        PluginInstance::from(ctx).set_error(std::string(msg, len));
        return KERBERUS_OK;
    });
}

void log(kerberus_plugin_ctx* ctx, int level, const char* msg, size_t len) {
    if (!ctx || !msg) return;
    (void)guarded([&] {
        auto& logger = PluginInstance::from(ctx).logger();
        auto lvl = to_spdlog(level);
        if (logger.should_log(lvl)) logger.log(lvl, std::string_view(msg, len));
        return KERBERUS_OK;
    });
}

int log_enabled(kerberus_plugin_ctx* ctx, int level) {
    return ctx && PluginInstance::from(ctx).logger().should_log(to_spdlog(level)) ? 1 : 0;
}

// --- configuration ----------------------------------------------------------

kerberus_status config_get_string(kerberus_plugin_ctx* ctx, const char* key, kerberus_str* out) {
    if (!ctx || !key || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        std::string_view v;
        auto r = PluginInstance::from(ctx).config().get_string(key, v);
        if (r == LookupResult::ok) *out = view(v);
        return lookup_status(r);
    });
}

kerberus_status config_get_int(kerberus_plugin_ctx* ctx, const char* key, int64_t* out) {
    if (!ctx || !key || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] { return lookup_status(PluginInstance::from(ctx).config().get_int(key, *out)); });
}

kerberus_status config_get_double(kerberus_plugin_ctx* ctx, const char* key, double* out) {
    if (!ctx || !key || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] { return lookup_status(PluginInstance::from(ctx).config().get_double(key, *out)); });
}

kerberus_status config_get_bool(kerberus_plugin_ctx* ctx, const char* key, int* out) {
    if (!ctx || !key || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        bool b = false;
        auto r = PluginInstance::from(ctx).config().get_bool(key, b);
        if (r == LookupResult::ok) *out = b ? 1 : 0;
        return lookup_status(r);
    });
}

kerberus_status config_json(kerberus_plugin_ctx* ctx, kerberus_str* out) {
    if (!ctx || !out) return KERBERUS_ERR_INVALID;
    *out = view(PluginInstance::from(ctx).config().json());
    return KERBERUS_OK;
}

// --- routes -------------------------------------------------------------------

kerberus_status route_add(kerberus_plugin_ctx* ctx, const char* method, const char* pattern,
                          kerberus_handler_fn handler, void* user_data) {
    if (!ctx) return KERBERUS_ERR_INVALID;
    return guarded([&] { return PluginInstance::from(ctx).add_route(method, pattern, handler, user_data); });
}

// --- request ------------------------------------------------------------------

template <typename F>
kerberus_status read(kerberus_request* req, kerberus_str* out, F&& get) {
    if (!req || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        std::optional<std::string_view> v = get(Exchange::from(req));
        if (!v) return KERBERUS_ERR_NOT_FOUND;
        *out = view(*v);
        return KERBERUS_OK;
    });
}

using OptView = std::optional<std::string_view>;

kerberus_status request_method(kerberus_request* req, kerberus_str* out) {
    return read(req, out, [](Exchange& ex) -> OptView { return ex.method(); });
}
kerberus_status request_path(kerberus_request* req, kerberus_str* out) {
    return read(req, out, [](Exchange& ex) -> OptView { return ex.relative_path(); });
}
kerberus_status request_raw_path(kerberus_request* req, kerberus_str* out) {
    return read(req, out, [](Exchange& ex) -> OptView { return ex.raw_path(); });
}
kerberus_status request_param(kerberus_request* req, const char* name, kerberus_str* out) {
    if (!name) return KERBERUS_ERR_INVALID;
    return read(req, out, [&](Exchange& ex) { return ex.param(name); });
}
kerberus_status request_query(kerberus_request* req, kerberus_str* out) {
    return read(req, out, [](Exchange& ex) -> OptView { return ex.query(); });
}
kerberus_status request_query_param(kerberus_request* req, const char* name, kerberus_str* out) {
    if (!name) return KERBERUS_ERR_INVALID;
    return read(req, out, [&](Exchange& ex) { return ex.query_param(name); });
}
kerberus_status request_header(kerberus_request* req, const char* name, kerberus_str* out) {
    if (!name) return KERBERUS_ERR_INVALID;
    return read(req, out, [&](Exchange& ex) { return ex.header(name); });
}
kerberus_status request_body(kerberus_request* req, kerberus_str* out) {
    if (req && Exchange::from(req).streamed_body_route()) return KERBERUS_ERR_STATE;
    return read(req, out, [](Exchange& ex) -> OptView { return ex.body(); });
}
kerberus_status request_remote_address(kerberus_request* req, kerberus_str* out) {
    return read(req, out, [](Exchange& ex) -> OptView { return ex.remote_address(); });
}

kerberus_status request_caller(kerberus_request* req, kerberus_str* subject, kerberus_str* token_type) {
    if (!req || !subject || !token_type) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        const auth::Caller& caller = Exchange::from(req).caller();
        const bool known = caller.type != auth::TokenType::none;
        *subject = view(known ? std::string_view(caller.subject) : std::string_view());
        *token_type = view(known ? auth::token_type_name(caller.type) : std::string_view());
        return known ? KERBERUS_OK : KERBERUS_ERR_NOT_FOUND;
    });
}

kerberus_status request_query_visit(kerberus_request* req, kerberus_visit_fn visit, void* user_data) {
    if (!req || !visit) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange::from(req).visit_query(visit, user_data);
        return KERBERUS_OK;
    });
}

kerberus_status request_header_visit(kerberus_request* req, kerberus_visit_fn visit, void* user_data) {
    if (!req || !visit) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        for (const http::HeaderField& field : Exchange::from(req).headers()) {
            if (visit(user_data, view(field.name), view(field.value)) != 0) break;
        }
        return KERBERUS_OK;
    });
}

// --- response -----------------------------------------------------------------

kerberus_status response_header_add(kerberus_request* req, const char* name, const char* value, size_t value_len) {
    if (!req || !name || (!value && value_len)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        return Exchange::from(req).add_response_header(name, std::string_view(value ? value : "", value_len));
    });
}

kerberus_status respond(kerberus_request* req, int status, const char* body, size_t body_len) {
    if (!req || (!body && body_len)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->respond(ex, status, std::string_view(body ? body : "", body_len));
    });
}

// --- outbound HTTP ---------------------------------------------------------

kerberus_status outbound_send(kerberus_plugin_ctx* ctx, const kerberus_outbound_request* request,
                              kerberus_outbound_done_fn done, void* user_data, uint64_t* id) {
    if (!ctx || !request) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        PluginInstance& plugin = PluginInstance::from(ctx);
        if (!outbound_client || !plugin.accepts_work()) return KERBERUS_ERR_STATE;
        return outbound_client->send(&plugin, *request, done, user_data, id);
    });
}

kerberus_status outbound_cancel(kerberus_plugin_ctx* ctx, uint64_t id) {
    if (!ctx) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        if (!outbound_client) return KERBERUS_ERR_NOT_FOUND;
        return outbound_client->cancel(&PluginInstance::from(ctx), id);
    });
}

// --- error answers -----------------------------------------------------------

kerberus_status respond_error(kerberus_request* req, int status, const char* message, size_t message_len) {
    if (!req || (!message && message_len)) return KERBERUS_ERR_INVALID;
    if (status < 400 || status > 599) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->respond_error(ex, status, std::string_view(message ? message : "", message_len));
    });
}

// --- ABI 1.4: streamed responses ---------------------------------------------

kerberus_status response_start(kerberus_request* req, int status, int64_t content_length,
                               kerberus_stream_event_fn on_event, void* user_data) {
    if (!req) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->start_stream(ex, status, content_length, on_event, user_data);
    });
}

kerberus_status response_write(kerberus_request* req, const char* data, size_t len) {
    if (!req || (!data && len)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->write_stream(ex, std::string_view(data ? data : "", len));
    });
}

kerberus_status response_end(kerberus_request* req) {
    if (!req) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->end_stream(ex);
    });
}

kerberus_status response_abort(kerberus_request* req) {
    if (!req) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->abort_stream(ex);
    });
}

kerberus_status outbound_stream(kerberus_plugin_ctx* ctx, const kerberus_outbound_request* request,
                                const kerberus_outbound_stream_fns* fns, kerberus_outbound_done_fn done,
                                void* user_data, uint64_t* id) {
    if (!ctx || !request || !fns) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        PluginInstance& plugin = PluginInstance::from(ctx);
        if (!outbound_client || !plugin.accepts_work()) return KERBERUS_ERR_STATE;
        return outbound_client->send(&plugin, *request, done, user_data, id, fns);
    });
}

kerberus_status outbound_resume(kerberus_plugin_ctx* ctx, uint64_t id) {
    if (!ctx) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        if (!outbound_client) return KERBERUS_ERR_NOT_FOUND;
        return outbound_client->resume(&PluginInstance::from(ctx), id);
    });
}

// --- ABI 1.3: route summaries, request ids, metrics -------------------------

kerberus_status route_describe(kerberus_plugin_ctx* ctx, const char* method, const char* pattern, const char* summary,
                               size_t summary_len) {
    if (!ctx || (!summary && summary_len)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        return PluginInstance::from(ctx).describe_route(method, pattern,
                                                        std::string_view(summary ? summary : "", summary_len));
    });
}

kerberus_status request_id(kerberus_request* req, kerberus_str* out) {
    if (!req || !out) return KERBERUS_ERR_INVALID;
    *out = view(Exchange::from(req).request_id());
    return KERBERUS_OK;
}

kerberus_status metric_family(kerberus_plugin_ctx* ctx, const kerberus_metric_spec* spec, kerberus_metric_family** out) {
    if (!ctx || !spec || !out) return KERBERUS_ERR_INVALID;
    return guarded([&] { return PluginInstance::from(ctx).add_metric_family(*spec, out); });
}

kerberus_status metric_series(kerberus_metric_family* family, const kerberus_str* label_values, size_t label_count,
                              kerberus_metric** out) {
    if (!family || !out || (!label_values && label_count)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        auto& f = metrics::PluginFamily::from(family);
        if (label_count != f.labels.size()) return KERBERUS_ERR_INVALID;
        std::vector<std::string> values;
        values.reserve(label_count);
        for (size_t i = 0; i < label_count; ++i) {
            if (!label_values[i].data && label_values[i].len) return KERBERUS_ERR_INVALID;
            values.emplace_back(label_values[i].data ? label_values[i].data : "", label_values[i].len);
        }
        metrics::PluginSeries* series = f.series(std::move(values));
        if (series == nullptr) return KERBERUS_ERR_TOO_LARGE;
        *out = series;
        return KERBERUS_OK;
    });
}

kerberus_status metric_add(kerberus_metric* metric, double value) {
    if (!metric || std::isnan(value)) return KERBERUS_ERR_INVALID;
    auto& s = metrics::PluginSeries::from(metric);
    if (s.family.type == KERBERUS_METRIC_HISTOGRAM) return KERBERUS_ERR_INVALID;
    if (s.family.type == KERBERUS_METRIC_COUNTER && value < 0) return KERBERUS_ERR_INVALID;
    s.value.add(value);
    return KERBERUS_OK;
}

kerberus_status metric_set(kerberus_metric* metric, double value) {
    if (!metric || std::isnan(value)) return KERBERUS_ERR_INVALID;
    auto& s = metrics::PluginSeries::from(metric);
    if (s.family.type != KERBERUS_METRIC_GAUGE) return KERBERUS_ERR_INVALID;
    s.value.set(value);
    return KERBERUS_OK;
}

kerberus_status metric_observe(kerberus_metric* metric, double value) {
    if (!metric || std::isnan(value)) return KERBERUS_ERR_INVALID;
    auto& s = metrics::PluginSeries::from(metric);
    if (s.family.type != KERBERUS_METRIC_HISTOGRAM) return KERBERUS_ERR_INVALID;
    s.histogram->observe(value);
    return KERBERUS_OK;
}

// --- ABI 1.5: streamed request bodies ---------------------------------------

kerberus_status route_set_flags(kerberus_plugin_ctx* ctx, const char* method, const char* pattern, uint32_t flags) {
    if (!ctx) return KERBERUS_ERR_INVALID;
    return guarded([&] { return PluginInstance::from(ctx).set_route_flags(method, pattern, flags); });
}

kerberus_status request_body_stream(kerberus_request* req, const kerberus_body_fns* fns, void* user_data) {
    if (!req || !fns) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        Exchange& ex = Exchange::from(req);
        return ex.dispatcher->start_body(ex, *fns, user_data);
    });
}

kerberus_status request_body_resume(kerberus_request* req) {
    if (!req) return KERBERUS_ERR_INVALID;
    return guarded([&] { return Exchange::from(req).resume_body(); });
}

kerberus_status outbound_body_write(kerberus_plugin_ctx* ctx, uint64_t id, const char* data, size_t len) {
    if (!ctx || (!data && len)) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        if (!outbound_client) return KERBERUS_ERR_NOT_FOUND;
        return outbound_client->write_body(&PluginInstance::from(ctx), id, std::string_view(data ? data : "", len));
    });
}

kerberus_status outbound_body_end(kerberus_plugin_ctx* ctx, uint64_t id) {
    if (!ctx) return KERBERUS_ERR_INVALID;
    return guarded([&] {
        if (!outbound_client) return KERBERUS_ERR_NOT_FOUND;
        return outbound_client->end_body(&PluginInstance::from(ctx), id);
    });
}

const kerberus_host_api kTable = {
    sizeof(kerberus_host_api),
    KERBERUS_ABI_MAJOR,
    KERBERUS_ABI_MINOR,
    KERBERUS_VERSION,
    set_error,
    log,
    log_enabled,
    config_get_string,
    config_get_int,
    config_get_double,
    config_get_bool,
    config_json,
    route_add,
    request_method,
    request_path,
    request_raw_path,
    request_param,
    request_query,
    request_query_param,
    request_query_visit,
    request_header,
    request_header_visit,
    request_body,
    request_remote_address,
    response_header_add,
    respond,
    outbound_send,
    outbound_cancel,
    respond_error,
    route_describe,
    request_id,
    metric_family,
    metric_series,
    metric_add,
    metric_set,
    metric_observe,
    response_start,
    response_write,
    response_end,
    response_abort,
    outbound_stream,
    outbound_resume,
    route_set_flags,
    request_body_stream,
    request_body_resume,
    outbound_body_write,
    outbound_body_end,
    request_caller,
};

}  // namespace

const kerberus_host_api* host_api() { return &kTable; }

void set_outbound_client(outbound::Client* client) { outbound_client = client; }

}  // namespace kerberus::api
