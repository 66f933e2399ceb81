// Which headers cross the proxy, in each direction. Backstage's proxy works
// from allowlists and so does this one: a header nobody named never reaches
// the upstream or the client. The sets are built once per endpoint at init;
// a lookup is a binary search over a few lower-case names, with no copy of
// the name being looked up.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace proxy {

// Header names are ASCII tokens: these ignore case the ASCII way.
bool iequals(std::string_view a, std::string_view b) noexcept;
std::string to_lower(std::string_view s);

class HeaderNameSet {
public:
    HeaderNameSet() = default;
    HeaderNameSet(std::initializer_list<std::string_view> names);

    void insert(std::string_view name);
    void erase(std::string_view name);
    bool contains(std::string_view name) const noexcept;
    bool empty() const noexcept { return names_.empty(); }
    std::vector<std::string>::const_iterator begin() const noexcept { return names_.begin(); }
    std::vector<std::string>::const_iterator end() const noexcept { return names_.end(); }

private:
    std::vector<std::string> names_;  // lower-case, sorted, unique
};

// The names a Connection header lists: hop-by-hop for that one message
// (RFC 9110, 7.6.1), so they never pass whatever else allows them.
class ConnectionTokens {
public:
    // `value` is one Connection header's value: "keep-alive, X-Foo".
    void add_list(std::string_view value);
    bool contains(std::string_view name) const noexcept;
    bool empty() const noexcept { return tokens_.empty(); }

private:
    std::vector<std::string> tokens_;
};

// Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade: never
// forwarded in either direction.
const HeaderNameSet& hop_by_hop_headers();

// A header only the proxy or the daemon may set, whatever is configured:
// hop-by-hop headers and Content-Length (the daemon and the outbound client
// compute it from the body).
bool is_reserved_header(std::string_view name) noexcept;

// credentials: require | forward | dangerously-allow-unauthenticated.
// kerberus has no caller authentication yet, so the only difference that
// remains is whether the caller's Authorization travels on (`forward`).
enum class Credentials { require, forward, dangerously_allow_unauthenticated };

struct HeaderPolicy {
    HeaderNameSet request;   // client headers copied upstream as they are
    HeaderNameSet response;  // upstream headers copied back to the client
};

// `allowed` is the endpoint's allowedHeaders; `configured` the names of its
// `headers`, which the proxy sets itself and so takes out of the client's
// hands. Names from `allowed` that can never pass (hop-by-hop,
// Content-Length) are appended to `ignored`.
HeaderPolicy make_header_policy(const std::vector<std::string>& allowed, const HeaderNameSet& configured,
                                Credentials credentials, std::vector<std::string>& ignored);

}  // namespace proxy
