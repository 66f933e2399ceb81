#include "metrics/plugin_metrics.h"

#include <cmath>
#include <cstddef>

namespace kerberus::metrics {
namespace {

constexpr std::size_t kMaxName = 100;
constexpr std::size_t kMaxLabels = 8;
constexpr std::size_t kMaxBuckets = 32;
const std::vector<double> kDefaultBounds = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

bool is_lower_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxName || s.substr(0, 2) == "__") return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

bool is_label_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxName || s.substr(0, 2) == "__") return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

bool has_control(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string exposed_name(std::string_view plugin, std::string_view name) {
    std::string out = "kerberus_plugin_";
    for (char c : plugin) out += c == '-' ? '_' : c;
    out += '_';
    out += name;
    return out;
}

std::string check_spec(const kerberus_metric_spec& spec, std::vector<std::string>& labels,
                       std::vector<double>& bounds) {
    if (spec.struct_size < offsetof(kerberus_metric_spec, bucket_count) + sizeof spec.bucket_count) {
        return "kerberus_metric_spec.struct_size is too small";
    }
    if (spec.type != KERBERUS_METRIC_COUNTER && spec.type != KERBERUS_METRIC_GAUGE &&
        spec.type != KERBERUS_METRIC_HISTOGRAM) {
        return "unknown metric type " + std::to_string(spec.type);
    }
    if (spec.name == nullptr || !is_lower_name(spec.name)) {
        return std::string("metric name \"") + (spec.name ? spec.name : "(null)") +
               "\" must match [a-z_][a-z0-9_]* (at most 100 characters, not starting with __)";
    }
    std::string_view name(spec.name);
    if (spec.type == KERBERUS_METRIC_COUNTER && !ends_with(name, "_total")) {
        return "counter " + std::string(name) + " must end in _total";
    }
    if (spec.type != KERBERUS_METRIC_COUNTER && ends_with(name, "_total")) {
        return "only counters end in _total: " + std::string(name);
    }
    for (std::string_view reserved : {"_bucket", "_sum", "_count"}) {
        if (spec.type == KERBERUS_METRIC_HISTOGRAM && ends_with(name, reserved)) {
            return "a histogram's name must not end in " + std::string(reserved);
        }
    }
    if (spec.help == nullptr || has_control(spec.help)) return "help text missing or holding control characters";
    if (spec.label_count > kMaxLabels) return "more than 8 labels";
    if (spec.label_count > 0 && spec.label_names == nullptr) return "label_names is NULL";
    labels.clear();
    for (std::size_t i = 0; i < spec.label_count; ++i) {
        const char* label = spec.label_names[i];
        if (label == nullptr || !is_label_name(label)) {
            return std::string("label name \"") + (label ? label : "(null)") + "\" must match [a-zA-Z_][a-zA-Z0-9_]*";
        }
        std::string_view l(label);
        if (l == "plugin" || l == "le") return "label name \"" + std::string(l) + "\" is the host's";
        for (const auto& earlier : labels) {
            if (earlier == l) return "label name \"" + std::string(l) + "\" given twice";
        }
        labels.emplace_back(l);
    }
    bounds.clear();
    if (spec.type == KERBERUS_METRIC_HISTOGRAM) {
        if (spec.bucket_count == 0) {
            bounds = kDefaultBounds;
        } else {
            if (spec.buckets == nullptr || spec.bucket_count > kMaxBuckets) return "buckets: NULL or more than 32";
            for (std::size_t i = 0; i < spec.bucket_count; ++i) {
                double b = spec.buckets[i];
                if (!std::isfinite(b) || (i > 0 && b <= spec.buckets[i - 1])) {
                    return "bucket bounds must be finite and strictly increasing";
                }
                bounds.push_back(b);
            }
        }
    }
    return {};
}

PluginSeries::PluginSeries(const PluginFamily& family, std::vector<std::string> values)
    : family(family), values(std::move(values)) {
    if (family.type == KERBERUS_METRIC_HISTOGRAM) histogram = std::make_unique<ValueHistogram>(family.bounds);
}

PluginFamily::PluginFamily(std::string plugin, std::string name, int type, std::string help,
                           std::vector<std::string> labels, std::vector<double> bounds)
    : plugin(std::move(plugin)),
      name(std::move(name)),
      type(type),
      help(std::move(help)),
      labels(std::move(labels)),
      bounds(std::move(bounds)) {}

bool PluginFamily::same(int other_type, std::string_view other_help, const std::vector<std::string>& other_labels,
                        const std::vector<double>& other_bounds) const {
    return type == other_type && help == other_help && labels == other_labels && bounds == other_bounds;
}

PluginSeries* PluginFamily::series(std::vector<std::string> values) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(values); it != index_.end()) return it->second;
    if (series_.size() >= kMaxSeries) return nullptr;
    PluginSeries& made = series_.emplace_back(*this, values);
    index_.emplace(std::move(values), &made);
    return &made;
}

void PluginFamily::write(TextWriter& out) const {
    std::lock_guard lock(mutex_);
    const char* kind = type == KERBERUS_METRIC_COUNTER ? "counter" : type == KERBERUS_METRIC_GAUGE ? "gauge" : "histogram";
    out.family(name, kind, help);
    for (const PluginSeries& s : series_) {
        Labels base{{"plugin", plugin}};
        for (std::size_t i = 0; i < labels.size(); ++i) base.emplace_back(labels[i], s.values[i]);
        if (type != KERBERUS_METRIC_HISTOGRAM) {
            out.sample(name, base, s.value.get());
            continue;
        }
        uint64_t cumulative = 0;
        std::string bucket_name = name + "_bucket";
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += s.histogram->bucket(i);
            std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
            Labels with_le = base;
            with_le.emplace_back("le", le);
            out.sample(bucket_name, with_le, cumulative);
        }
        out.sample(name + "_sum", base, s.histogram->sum());
        out.sample(name + "_count", base, cumulative);
    }
}

}  // namespace kerberus::metrics
