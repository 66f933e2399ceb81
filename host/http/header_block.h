// The response headers of one exchange, kept as ready-to-send text so
// putting a response on the wire is one append. Reused across responses.
#pragma once

#include <string>
#include <string_view>

namespace kerberus::http {

class HeaderBlock {
public:
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

    std::string_view connection() const { return connection_; }
    // "\r\nName: value" for each header added, in order.
    std::string_view lines() const { return lines_; }

private:
    std::string_view connection_;  // always a string literal
    std::string lines_;
};

}  // namespace kerberus::http
