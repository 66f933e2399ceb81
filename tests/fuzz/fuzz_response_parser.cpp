// fuzz_response_parser: the outbound client's HTTP/1.x response parser
// (host/outbound/response_parser), fed what an upstream sends on one
// connection, in many different splits, buffered and streamed.
//
// Input (text, so seeds can be written by hand):
//
//   <option line>\n<the bytes the upstream sends>
//
// The option line holds words separated by spaces:
//   N     the next read carries N bytes (N >= 1)
//   N*    from here on every read carries N bytes
//   bN    max_body (default 1048576, at most 16 MiB)
//   H     the request was HEAD
//   u     the request asked for an upgrade (expect_upgrade())
//   e     the upstream closes the connection after the bytes (eof())
// A first line that is not an option list (or no '\n' within the first 64
// bytes) means no options: the whole input is the upstream's bytes.
//
// Each read is a fresh heap allocation freed right after feed(), so a view
// into it that the parser kept is a use-after-free ASan reports. Findings
// (each aborts with a "==== FINDING:" line), besides sanitizer reports:
//   - feed() consuming more than it was given, anything after the end of
//     the response, or less than given while the response goes on;
//   - an outcome (state; for a response that did not fail also status,
//     fields, body, reusable and bytes consumed) that differs from the one
//     of the same bytes in one read: split in two at many points, byte by
//     byte, in pseudo-random pieces, as the option line says;
//   - a streamed body (taken and cleared after every read) that differs
//     from the buffered one;
//   - a body for a HEAD request (a 101 taking up an upgrade aside), a 204
//     or a 304; a 101 other than to an upgrade; a body over max_body; a
//     too_large where the whole body fits, or a finished body that does not;
//   - fields or status that change once has_head(); a field view that is
//     not a token, its ':' and a trimmed value inside the head's own line;
//   - eof() leaving the response unfinished; reusable() before done, after
//     eof() ended the body, or despite Connection: close;
//   - a reset() parser that reads the next response unlike a fresh one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "finding.h"
#include "outbound/response_parser.h"

using kerberus::fuzz::finding;
using kerberus::fuzz::quoted;

namespace {

using kerberus::outbound::ResponseField;
using kerberus::outbound::ResponseParser;
using State = ResponseParser::State;

constexpr uint64_t kDefaultMaxBody = 1024 * 1024;
// Past this many reads the rest arrives together; byte-by-byte feeding of a
// long input only slows the fuzzer down.
constexpr std::size_t kMaxReads = 1024;


struct Options {
    bool head_request = false;
    bool upgrade = false;
    uint64_t max_body = kDefaultMaxBody;
    bool close_at_end = false;
    bool streaming = false;
};

struct Input {
    std::string_view payload;
    std::vector<std::size_t> reads;  // as the option line says; empty: none given
    Options options;
};

bool option(std::string_view word, Input& in, std::vector<std::size_t>& sizes, std::size_t& repeat) {
    if (word == "H") {
        in.options.head_request = true;
        return true;
    }
    if (word == "u") {
        in.options.upgrade = true;
        return true;
    }
    if (word == "e") {
        in.options.close_at_end = true;
        return true;
    }
    const bool body = word.front() == 'b';
    if (body) word.remove_prefix(1);
    const bool repeating = !body && !word.empty() && word.back() == '*';
    if (repeating) word.remove_suffix(1);
    if (word.empty() || word.size() > 8) return false;
    std::size_t n = 0;
    for (char c : word) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (body) {
        // Larger limits reach nothing new with inputs of a few KiB, but a
        // buffered Content-Length body reserves its length up front.
        in.options.max_body = std::min<std::size_t>(n, 16 * 1024 * 1024);
    } else if (n == 0 || repeat != 0) {
        return false;  // nothing may follow a repeating size
    } else if (repeating) {
        repeat = n;
    } else {
        sizes.push_back(n);
    }
    return true;
}

Input read_input(const uint8_t* data, std::size_t size) {
    Input in;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    in.payload = all;
    const std::size_t nl = all.substr(0, 64).find('\n');
    if (nl == std::string_view::npos) return in;
    std::vector<std::size_t> sizes;
    std::size_t repeat = 0;
    std::string_view line = all.substr(0, nl);
    while (!line.empty()) {
        const std::size_t sp = line.find(' ');
        const std::string_view word = line.substr(0, sp);
        if (!word.empty() && !option(word, in, sizes, repeat)) return Input{all, {}, {}};
        line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
    }
    in.payload = all.substr(nl + 1);
    std::size_t left = in.payload.size();
    for (std::size_t n : sizes) {
        if (left == 0 || in.reads.size() + 1 >= kMaxReads) break;
        in.reads.push_back(std::min(n, left));
        left -= in.reads.back();
    }
    while (repeat != 0 && left > 0 && in.reads.size() + 1 < kMaxReads) {
        in.reads.push_back(std::min(repeat, left));
        left -= in.reads.back();
    }
    if (left > 0 && !in.reads.empty()) in.reads.push_back(left);
    return in;
}

struct Outcome {
    State state = State::head;
    int status = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    bool reusable = false;
    std::size_t consumed = 0;
    std::string error;

    // How much of a failed response was read depends on where it was cut
    // (the parser stops at the piece that showed the failure).
    bool same_as(const Outcome& o) const {
        if (state == State::malformed || state == State::too_large) return state == o.state;
        return state == o.state && status == o.status && fields == o.fields && body == o.body &&
               reusable == o.reusable && consumed == o.consumed;
    }
};

const char* state_name(State s) {
    switch (s) {
        case State::head: return "head";
        case State::body: return "body";
        case State::done: return "done";
        case State::malformed: return "malformed";
        case State::too_large: return "too_large";
    }
    return "?";
}

std::string describe(const Outcome& o) {
    std::string out = std::string("  state ") + state_name(o.state) + ", status " + std::to_string(o.status) +
                      ", consumed " + std::to_string(o.consumed) + (o.reusable ? ", reusable" : "") + "\n";
    for (const auto& [name, value] : o.fields) out += "  field " + quoted(name) + ": " + quoted(value) + "\n";
    out += "  body " + quoted(o.body) + "\n";
    if (!o.error.empty()) out += "  error: " + o.error + "\n";
    return out;
}

std::string describe_run(std::string_view payload, const std::vector<std::size_t>& reads, const Options& o) {
    std::string out = "payload " + quoted(payload) + "\n" + (o.head_request ? "HEAD, " : "") +
                      (o.upgrade ? "upgrade, " : "") +
                      "max_body " + std::to_string(o.max_body) + (o.close_at_end ? ", closed at the end" : "") +
                      (o.streaming ? ", streamed" : ", buffered") + ", reads:";
    for (std::size_t i = 0; i < reads.size() && i < 40; ++i) out += " " + std::to_string(reads[i]);
    if (reads.size() > 40) out += " ... (" + std::to_string(reads.size()) + " reads)";
    return out + "\n";
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// A field as the parser hands it out must be a view of its own copy of the
// head: the name a token followed by ':', then optional whitespace, the
// value without whitespace at either end, optional whitespace and the end
// of that line. Every input buffer is freed by the time this runs, so a view
// into one is a use-after-free.
const char* bad_field(const ResponseField& f) {
    if (f.name.empty()) return "an empty field name";
    for (char c : f.name) {
        if (!is_tchar(static_cast<unsigned char>(c))) return "a field name that is not a token";
    }
    const char* colon = f.name.data() + f.name.size();
    if (*colon != ':') return "a field name not followed by ':' in the parser's buffer";
    if (!f.value.empty() && (is_ows(f.value.front()) || is_ows(f.value.back()))) return "an untrimmed value";
    const char* p = colon + 1;
    if (!f.value.empty()) {
        if (f.value.data() < p) return "a value before its name";
        for (; p < f.value.data(); ++p) {
            if (!is_ows(*p)) return "a value that does not start after the colon and whitespace";
        }
        p += f.value.size();
    }
    while (is_ows(*p)) ++p;
    if (*p == '\r') ++p;
    if (*p != '\n') return "a value that does not end its line";
    return nullptr;
}

bool has_token(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name,
               std::string_view token) {
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        return s;
    };
    for (const auto& [n, v] : fields) {
        if (lower(n) != name) continue;
        std::string value = lower(v);
        std::size_t start = 0;
        for (;;) {
            std::size_t comma = value.find(',', start);
            std::string_view element = std::string_view(value).substr(start, comma - start);
            while (!element.empty() && is_ows(element.front())) element.remove_prefix(1);
            while (!element.empty() && is_ows(element.back())) element.remove_suffix(1);
            if (element == token) return true;
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return false;
}

std::vector<std::pair<std::string, std::string>> copy_fields(const ResponseParser& p) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const ResponseField& f : p.fields()) out.emplace_back(f.name, f.value);
    return out;
}

// One response read from `payload` in pieces of `reads`, by `p` (already
// reset() for it), checking what must hold after every read.
Outcome run_with(ResponseParser& p, std::string_view payload, const std::vector<std::size_t>& reads,
                 const Options& o) {
    auto fail = [&](const char* what, const std::string& more = "") {
        finding(what, describe_run(payload, reads, o) + more);
    };
    Outcome out;
    // A 101 that took up the upgrade: its head is final, the new protocol's
    // bytes follow as body until the connection ends.
    auto took_upgrade = [&] { return o.upgrade && p.status() == 101; };
    std::size_t offset = 0;
    bool had_head = false;
    int head_status = 0;
    std::vector<std::pair<std::string, std::string>> head_fields;
    auto take_body = [&] {
        if (o.streaming) {
            out.body += p.body();
            p.clear_body();
        }
        const std::size_t total = o.streaming ? out.body.size() : p.body().size();
        if (total > o.max_body) fail("more body than max_body");
        if (o.head_request && total != 0 && !took_upgrade()) fail("a body in the response to HEAD");
    };
    auto check_head = [&] {
        if (!p.has_head()) {
            if (had_head && !p.finished()) fail("has_head() went back to false while the response goes on");
            return;
        }
        if (!had_head) {
            had_head = true;
            head_status = p.status();
            head_fields = copy_fields(p);
            if ((head_status < 200 && !took_upgrade()) || head_status > 999) fail("a final status outside 200-999");
            return;
        }
        if (p.status() != head_status || copy_fields(p) != head_fields) fail("status or fields changed after has_head()");
    };
    for (std::size_t n : reads) {
        if (n == 0) continue;
        // A fresh allocation per read, freed right after: the parser must
        // copy whatever it keeps.
        std::unique_ptr<char[]> piece(new char[n]);
        std::memcpy(piece.get(), payload.data() + offset, n);
        const bool was_finished = p.finished();
        const std::size_t used = p.feed(piece.get(), n);
        piece.reset();
        if (used > n) fail("feed() consumed more than it was given");
        if (was_finished && used != 0) fail("feed() consumed bytes after the end of the response");
        if (used < n && !p.finished()) fail("feed() left bytes unread while the response goes on");
        if (!p.started()) fail("started() false after a byte arrived");
        out.consumed += used;
        offset += n;
        take_body();
        check_head();
    }
    if (o.close_at_end && !p.finished()) {
        p.eof();
        if (!p.finished()) fail("eof() left the response unfinished");
        if (p.reusable()) fail("a response ended by eof() is reusable");
        take_body();
        check_head();
    }
    out.state = p.state();
    out.status = p.status();
    out.fields = copy_fields(p);
    if (!o.streaming) out.body = p.body();
    out.reusable = p.reusable();
    out.error = p.error();

    const bool failed = out.state == State::malformed || out.state == State::too_large;
    if (failed != !out.error.empty()) fail("error() set for a response that did not fail, or empty for one that did");
    if (out.reusable && out.state != State::done) fail("reusable() before the response is done");
    if (p.has_head()) {
        for (const ResponseField& f : p.fields()) {
            if (const char* why = bad_field(f)) fail(why, describe(out));
        }
        if ((o.head_request || out.status == 204 || out.status == 304) && !took_upgrade() &&
            out.state != State::done) {
            fail("a response without a body is not done at the end of its head", describe(out));
        }
    }
    if (out.state == State::done && (out.status == 204 || out.status == 304) && !out.body.empty()) {
        fail("a body in a 204 or 304", describe(out));
    }
    if (out.reusable && (has_token(out.fields, "connection", "close") || took_upgrade())) {
        fail("reusable despite Connection: close or an upgrade", describe(out));
    }
    return out;
}

Outcome run(std::string_view payload, const std::vector<std::size_t>& reads, const Options& o) {
    ResponseParser p;
    p.reset(o.head_request, o.max_body, o.streaming);
    if (o.upgrade) p.expect_upgrade();
    return run_with(p, payload, reads, o);
}

// A small deterministic generator, seeded from the input, so that a finding
// reproduces from its artifact alone.
struct Random {
    uint64_t state;
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

uint64_t seed_of(std::string_view s) {
    uint64_t h = 1469598103934665603ULL;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return h | 1;
}

void compare(const Outcome& got, const Outcome& whole, std::string_view payload, const std::vector<std::size_t>& reads,
             const Options& o, const char* what) {
    if (got.same_as(whole)) return;
    finding(what, "in one read, buffered:\n" + describe(whole) + describe_run(payload, reads, o) + describe(got));
}

// Split invariance: every way of cutting the bytes, buffered or streamed,
// gives the outcome of one buffered read.
void check_splits(std::string_view payload, const Options& base, const std::vector<std::size_t>& option_reads,
                  const Outcome& whole) {
    const std::size_t n = payload.size();
    std::vector<std::vector<std::size_t>> splits;
    if (option_reads.size() > 1) splits.push_back(option_reads);
    splits.push_back({n});  // streamed in one read
    if (n > 1 && n <= kMaxReads) splits.emplace_back(n, 1);
    Random random{seed_of(payload)};
    if (n <= 64) {
        for (std::size_t i = 1; i < n; ++i) splits.push_back({i, n - i});
    } else {
        for (int k = 0; k < 12; ++k) {
            const std::size_t i = 1 + random.below(n - 1);
            splits.push_back({i, n - i});
        }
    }
    for (int k = 0; k < 2 && n > 1; ++k) {
        std::vector<std::size_t> pieces;
        std::size_t left = n;
        const std::size_t most = 1 + random.below(k == 0 ? 8 : 64);
        while (left > 0) {
            const std::size_t take = std::min(left, pieces.size() + 1 >= kMaxReads ? left : 1 + random.below(most));
            pieces.push_back(take);
            left -= take;
        }
        splits.push_back(std::move(pieces));
    }
    for (const auto& reads : splits) {
        Options o = base;
        for (bool streaming : {false, true}) {
            if (!streaming && reads.size() == 1) continue;  // that is `whole` itself
            o.streaming = streaming;
            compare(run(payload, reads, o), whole, payload, reads, o,
                    streaming ? "a streamed body or outcome that differs from one buffered read"
                              : "the outcome depends on how the bytes were split into reads");
        }
    }
}

// max_body: a limited parser fails exactly when the body does not fit. The
// reference is the streaming parser without a limit, as the client runs it
// for a streamed answer with no maxResponseSize.
void check_limit(std::string_view payload, const Options& o, const Outcome& limited) {
    if (o.head_request) return;
    Options unlimited = o;
    unlimited.max_body = std::numeric_limits<uint64_t>::max();
    unlimited.streaming = true;
    const std::vector<std::size_t> reads{payload.size()};
    const Outcome open = run(payload, reads, unlimited);
    auto fail = [&](const char* what) {
        finding(what, describe_run(payload, reads, o) + "with max_body " + std::to_string(o.max_body) + ":\n" +
                          describe(limited) + "without a limit:\n" + describe(open));
    };
    if (open.state == State::done && open.body.size() <= o.max_body && !limited.same_as(open)) {
        fail("a body that fits max_body is not read as it is without a limit");
    }
    if (open.state == State::done && open.body.size() > o.max_body && limited.state != State::too_large) {
        fail("a body larger than max_body is not too_large");
    }
    if (limited.state == State::done && !limited.same_as(open)) fail("a limited read differs from an unlimited one");
}

// reset(): the parser of a kept-alive connection reads the next response as
// a fresh one would. The bytes after each finished response stand for the
// next response on the connection; HEAD and the upgrade alternate so that
// reset() also has to clear them.
void check_reset(std::string_view payload, const Options& o, const Outcome& whole) {
    ResponseParser reused;
    reused.reset(o.head_request, o.max_body, false);
    if (o.upgrade) reused.expect_upgrade();
    std::vector<std::size_t> reads{payload.size()};
    (void)run_with(reused, payload, reads, o);
    Outcome previous = whole;
    std::string_view rest = payload;
    Options next = o;
    for (int i = 0; i < 4 && previous.state == State::done && previous.consumed > 0 && previous.consumed < rest.size();
         ++i) {
        rest.remove_prefix(previous.consumed);
        next.head_request = !next.head_request;
        next.upgrade = !next.upgrade;
        next.streaming = (i % 2) == 0;
        reads = {rest.size()};
        reused.reset(next.head_request, next.max_body, next.streaming);
        if (next.upgrade) reused.expect_upgrade();
        const Outcome again = run_with(reused, rest, reads, next);
        const Outcome fresh = run(rest, reads, next);
        if (!again.same_as(fresh) || again.state != fresh.state) {
            finding("a reset() parser reads a response unlike a fresh one",
                    describe_run(rest, reads, next) + "fresh:\n" + describe(fresh) + "after reset():\n" +
                        describe(again));
        }
        previous = fresh;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const Input in = read_input(data, size);
    const std::vector<std::size_t> one{in.payload.size()};
    const Outcome whole = run(in.payload, one, in.options);
    check_splits(in.payload, in.options, in.reads, whole);
    check_limit(in.payload, in.options, whole);
    check_reset(in.payload, in.options, whole);
    return 0;
}
