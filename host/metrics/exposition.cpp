#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace kerberus::metrics {
namespace {

void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

}  // namespace

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Plain decimals ("0.0005", not "5e-04") where they stay short, as
    // Prometheus' own clients write bucket bounds.
    char text[64];
    double magnitude = std::fabs(value);
    bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
    auto [end, ec] = plain ? std::to_chars(text, text + sizeof text, value, std::chars_format::fixed)
                           : std::to_chars(text, text + sizeof text, value);
    (void)ec;
    return std::string(text, end);
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).push_back(' ');
    append_escaped(out_, help, false);
    out_.append("\n# TYPE ").append(name).push_back(' ');
    out_.append(type).push_back('\n');
}

void TextWriter::labels(const Labels& labels) {
    if (labels.empty()) return;
    out_.push_back('{');
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(name).append("=\"");
        append_escaped(out_, value, true);
        out_.push_back('"');
    }
    out_.push_back('}');
}

void TextWriter::sample(std::string_view name, const Labels& labels, double value) {
    out_.append(name);
    this->labels(labels);
    out_.push_back(' ');
    out_.append(format_value(value)).push_back('\n');
}

void TextWriter::sample(std::string_view name, const Labels& labels, uint64_t value) {
    out_.append(name);
    this->labels(labels);
    out_.push_back(' ');
    char text[24];
    auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    (void)ec;
    out_.append(text, end).push_back('\n');
}

}  // namespace kerberus::metrics
