#include "plugins/plugin_instance.h"

#include <map>

#include "common/fault_report.h"
#include "common/status_text.h"

namespace kerberus {
namespace {

// One line of a route's summary (route_describe).
constexpr std::size_t kMaxRouteSummary = 200;

// The instance whose health callback runs on this thread, if any.
thread_local PluginInstance* health_caller = nullptr;

uint64_t next_generation(const std::string& id) {
    static std::mutex mutex;
    static std::map<std::string, uint64_t> generations;
    std::lock_guard lock(mutex);
    return ++generations[id];
}

}  // namespace

const char* to_string(PluginState s) {
    switch (s) {
        case PluginState::loaded: return "loaded";
        case PluginState::running: return "running";
        case PluginState::failed: return "failed";
        case PluginState::stopped: return "stopped";
    }
    return "unknown";
}

PluginInstance::PluginInstance(PluginFile file, config::PluginSettings settings,
                               std::shared_ptr<spdlog::logger> logger)
    : id_(file.id),
      file_(std::move(file)),
      settings_(std::move(settings)),
      namespace_(settings_.settings),
      logger_(std::move(logger)),
      host_errors_(&metrics::Registry::instance().host_errors(id_)),
      generation_(next_generation(id_)) {}

PluginInstance::PluginInstance(std::string id, config::PluginSettings settings,
                               std::shared_ptr<spdlog::logger> logger, std::string error)
    : id_(std::move(id)),
      settings_(std::move(settings)),
      namespace_(settings_.settings),
      logger_(std::move(logger)),
      state_(PluginState::failed),
      error_(std::move(error)),
      host_errors_(&metrics::Registry::instance().host_errors(id_)),
      generation_(next_generation(id_)) {
    stopped_ = destroyed_ = true;  // nothing was initialised
}

PluginInstance::~PluginInstance() {
    // The library must outlive every call into it; destroy() is the last.
    destroy();
}

void PluginInstance::init(const kerberus_host_api* api) {
    if (!has_file() || state_ != PluginState::loaded) return;
    error_.clear();
    initialising_ = true;
    accepting_work_.store(true, std::memory_order_release);
    kerberus_status status;
    {
        fault_report::Running running(id_, "init");
        status = file_.descriptor->init(api, this, &instance_);
    }
    initialising_ = false;
    if (status == KERBERUS_OK) {
        state_ = PluginState::running;
        return;
    }
    state_ = PluginState::failed;
    refuse_new_work();
    // The plugin's own words are the story; the code only when it gave none.
    if (error_.empty()) error_ = "init returned " + status_text(status) + " without a message (set_error)";
}

void PluginInstance::stop() {
    if (stopped_) return;
    stopped_ = true;
    refuse_new_work();
    // A failed init still gets destroy (the plugin may have allocated), but
    // stop is for instances that ran.
    if (state_ == PluginState::running && file_.descriptor->stop) {
        fault_report::Running running(id_, "stop");
        file_.descriptor->stop(instance_);
    }
    if (state_ == PluginState::running) state_ = PluginState::stopped;
}

void PluginInstance::destroy() {
    if (destroyed_) return;
    stop();
    destroyed_ = true;
    if (file_.descriptor && file_.descriptor->destroy && state_ != PluginState::loaded) {
        fault_report::Running running(id_, "destroy");
        file_.descriptor->destroy(instance_);
    }
    instance_ = nullptr;
}

bool PluginInstance::same_as(const PluginFile& file, const config::PluginSettings& settings) const {
    if (!has_file() || !file.copy || !file_.copy) return false;
    return file_.path == file.path && file_.version == file.version && file_.copy->identity() == file.copy->identity() &&
           settings_.enabled == settings.enabled && settings_.required == settings.required &&
           settings_.version == settings.version && settings_.sha256 == settings.sha256 &&
           namespace_.json() == config::PluginNamespace(settings.settings).json();
}

kerberus_status PluginInstance::add_route(const char* method, const char* pattern, kerberus_handler_fn fn,
                                          void* user_data) {
    if (!initialising_) return KERBERUS_ERR_STATE;
    if (method == nullptr || pattern == nullptr || fn == nullptr) return KERBERUS_ERR_INVALID;
    std::string why;
    switch (routes_.add(method, pattern, handlers_.size(), &why)) {
        case http::AddResult::ok: break;
        case http::AddResult::conflict:
            logger_->error("route {} {} is registered twice", method, pattern);
            return KERBERUS_ERR_CONFLICT;
        case http::AddResult::invalid_pattern:
            logger_->error("invalid route pattern \"{}\": {}", pattern, why);
            return KERBERUS_ERR_INVALID;
        case http::AddResult::invalid_method:
            logger_->error("invalid route method \"{}\"", method);
            return KERBERUS_ERR_INVALID;
    }
    handlers_.push_back(
        RouteHandler{fn, user_data, method, pattern, {}, 0, &metrics::Registry::instance().route(id_, method, pattern)});
    return KERBERUS_OK;
}

void PluginInstance::set_error(std::string message) {
    if (health_caller == this) {
        *health_message_ = std::move(message);
    } else {
        error_ = std::move(message);
    }
}

kerberus_status PluginInstance::call_health(std::string& message) {
    message.clear();
    health_message_ = &message;
    health_caller = this;
    kerberus_status status;
    {
        fault_report::Running running(id_, "health check");
        status = file_.descriptor->health(instance_);
    }
    health_caller = nullptr;
    return status;
}

PluginHealth PluginInstance::health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
}

void PluginInstance::set_health(PluginHealth health) {
    std::lock_guard lock(health_mutex_);
    health_ = std::move(health);
}

kerberus_status PluginInstance::describe_route(const char* method, const char* pattern, std::string_view summary) {
    if (!initialising_) return KERBERUS_ERR_STATE;
    if (method == nullptr || pattern == nullptr || summary.size() > kMaxRouteSummary) return KERBERUS_ERR_INVALID;
    for (unsigned char c : summary) {
        if (c < 0x20 || c == 0x7f) return KERBERUS_ERR_INVALID;
    }
    for (RouteHandler& h : handlers_) {
        if (h.method == method && h.pattern == pattern) {
            h.summary.assign(summary);
            return KERBERUS_OK;
        }
    }
    return KERBERUS_ERR_NOT_FOUND;
}

kerberus_status PluginInstance::set_route_flags(const char* method, const char* pattern, uint32_t flags) {
    if (!initialising_) return KERBERUS_ERR_STATE;
    if (method == nullptr || pattern == nullptr || (flags & ~(KERBERUS_ROUTE_STREAMED_BODY | KERBERUS_ROUTE_PUBLIC)) != 0) {
        return KERBERUS_ERR_INVALID;
    }
    for (RouteHandler& h : handlers_) {
        if (h.method == method && h.pattern == pattern) {
            h.flags = flags;
            if (flags & KERBERUS_ROUTE_STREAMED_BODY) streams_bodies_ = true;
            return KERBERUS_OK;
        }
    }
    return KERBERUS_ERR_NOT_FOUND;
}

kerberus_status PluginInstance::add_metric_family(const kerberus_metric_spec& spec, kerberus_metric_family** out) {
    if (!initialising_) return KERBERUS_ERR_STATE;
    metrics::PluginFamily* family = nullptr;
    std::string why;
    switch (metrics::Registry::instance().plugin_family(id_, spec, family, why)) {
        case metrics::Registry::FamilyResult::ok:
            *out = family;
            return KERBERUS_OK;
        case metrics::Registry::FamilyResult::invalid:
            logger_->error("metric_family: {}", why);
            return KERBERUS_ERR_INVALID;
        case metrics::Registry::FamilyResult::conflict:
            logger_->error("metric_family: {}", why);
            return KERBERUS_ERR_CONFLICT;
    }
    return KERBERUS_ERR_INTERNAL;
}

}  // namespace kerberus
