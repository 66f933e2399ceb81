// Pistache 0.0.5 parses the query into an unordered_map: order is lost and
// a repeated name keeps only its first value, so "?tag=a&tag=b" cannot be
// forwarded or read faithfully. The raw bytes of the request are still in
// the connection's parser buffer while the handler runs, but the buffer is
// a private member; so is a header's value, whose getter returns a copy.
// An explicit template instantiation may name private members
// ([temp.explicit]/12); that is how this file reads them, zero-copy. It is
// tied to Pistache 0.0.5's layout and checked by the query and header tests.
#include "http/pistache_access.h"

#include <algorithm>
#include <vector>

namespace kerberus::http {
namespace {

using ParserBase = Pistache::Http::Private::ParserBase;
using ParserBuffer = Pistache::ArrayStreamBuf<char>;

template <auto Member, typename Tag>
struct Expose {
    friend constexpr auto member_of(Tag) { return Member; }
};

struct ParserBufferTag {
    friend constexpr auto member_of(ParserBufferTag);
};
struct BufferBytesTag {
    friend constexpr auto member_of(BufferBytesTag);
};
struct RawValueTag {
    friend constexpr auto member_of(RawValueTag);
};

template struct Expose<&ParserBase::buffer, ParserBufferTag>;
template struct Expose<&ParserBuffer::bytes, BufferBytesTag>;
template struct Expose<&Pistache::Http::Header::Raw::value_, RawValueTag>;

}  // namespace

RawRequest raw_request(const Pistache::Http::RequestParser& parser) {
    const ParserBase& base = parser;
    const ParserBuffer& buffer = base.*member_of(ParserBufferTag{});
    const std::vector<char>& bytes = buffer.*member_of(BufferBytesTag{});
    std::string_view all(bytes.data(), bytes.size());
    std::size_t consumed = std::min(buffer.position(), all.size());
    std::size_t end = all.find("\r\n");
    return RawRequest{end == std::string_view::npos ? std::string_view{} : all.substr(0, end), consumed,
                      all.substr(consumed)};
}

const std::string& header_value(const Pistache::Http::Header::Raw& raw) { return raw.*member_of(RawValueTag{}); }

std::string_view query_of_request_line(std::string_view line) {
    std::size_t target = line.find(' ');
    std::size_t version = line.rfind(' ');
    if (target == std::string_view::npos || version <= target) return {};
    std::string_view uri = line.substr(target + 1, version - target - 1);
    std::size_t q = uri.find('?');
    if (q == std::string_view::npos) return {};
    uri.remove_prefix(q + 1);
    // A fragment never reaches a server, but a broken client may send one.
    return uri.substr(0, uri.find('#'));
}

}  // namespace kerberus::http
