// Prometheus' text exposition format 0.0.4: a HELP and a TYPE line per
// family, then its samples, label values escaped.
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kerberus::metrics {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::vector<Label>;

class TextWriter {
public:
    explicit TextWriter(std::string& out) : out_(out) {}

    // Starts a family; its samples must follow before the next one starts.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    void sample(std::string_view name, const Labels& labels, uint64_t value);

private:
    void labels(const Labels& labels);
    std::string& out_;
};

// A value as Prometheus writes it: integers without a fraction, +Inf, NaN.
std::string format_value(double value);

}  // namespace kerberus::metrics
