// All response headers of one response as a single Pistache header object.
//
// Pistache 0.0.5 writes only typed headers (one per name) and silently drops
// "raw" ones, so plugin headers with arbitrary names — or the same name twice
// (Set-Cookie) — cannot go through its collection. This object poses as the
// Connection header (which every response carries, and which replaces the
// Close that Pistache puts on requests without one) and writes the rest of
// the block after it. It is reused across responses: no allocation once warm.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <pistache/http_header.h>

namespace kerberus::http {

class HeaderBlock final : public Pistache::Http::Header::Header {
public:
    const char* name() const override { return "Connection"; }
    // A hash of its own, so Pistache's checked header_cast never mistakes
    // the block for its typed Connection header.
    uint64_t hash() const override { return Pistache::Http::Header::detail::hash("kerberus-header-block"); }
    void write(std::ostream& os) const override { os << connection_ << lines_; }

    // Starts a new block with the Connection value ("keep-alive" / "close").
    void reset(std::string_view connection) {
        connection_ = connection;
        lines_.clear();
    }
    // Changes the Connection value alone. Separate storage from the lines,
    // so the host may do this while a plugin thread adds headers.
    void set_connection(std::string_view connection) { connection_ = connection; }
    // Adds one "Name: value" line; the caller has validated both.
    void add(std::string_view name, std::string_view value) {
        lines_.append("\r\n").append(name).append(": ").append(value);
    }

private:
    std::string_view connection_;  // always a string literal
    std::string lines_;
};

}  // namespace kerberus::http
