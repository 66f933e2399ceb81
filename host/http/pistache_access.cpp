// The parser's timestamp is a private member. An explicit template
// instantiation may name private members ([temp.explicit]/12); that is how
// this file sets it. It is tied to Pistache 0.0.5's layout and checked by
// the idle-timeout tests.
#include "http/pistache_access.h"

#include <chrono>

namespace kerberus::http {
namespace {

template <auto Member, typename Tag>
struct Expose {
    friend constexpr auto member_of(Tag) { return Member; }
};

struct ParserTimeTag {
    friend constexpr auto member_of(ParserTimeTag);
};

template struct Expose<&Pistache::Http::RequestParser::time_, ParserTimeTag>;

}  // namespace

void mark_activity(Pistache::Http::RequestParser& parser) {
    parser.*member_of(ParserTimeTag{}) = std::chrono::steady_clock::now();
}

}  // namespace kerberus::http
