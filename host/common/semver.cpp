#include "common/semver.h"

#include <charconv>
#include <limits>

namespace kerberus {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool all_digits(std::string_view s)
{
    for (char c : s)
        if (!is_digit(c))
            return false;
    return true;
}

std::string quoted(std::string_view s)
{
    std::string q;
    q.reserve(s.size() + 2);
    q += '"';
    q += s;
    q += '"';
    return q;
}

// "1", "1.2" or "1.2.3" with optional "-prerelease" and "+build"; constraints
// need the part count to tell a partial from a full version.
struct Partial {
    Version version;
    int count = 0;
};

bool read_number(std::string_view text, uint64_t& out, std::string& error)
{
    if (text.empty()) {
        error = "a number is missing";
        return false;
    }
    if (!all_digits(text)) {
        error = quoted(text) + " is not a number";
        return false;
    }
    if (text.size() > 1 && text.front() == '0') {
        error = quoted(text) + " has a leading zero";
        return false;
    }
    if (std::from_chars(text.data(), text.data() + text.size(), out).ec != std::errc{}) {
        error = quoted(text) + " is too large";
        return false;
    }
    return true;
}

// Dot-separated identifiers; semver forbids leading zeros only in numeric
// prerelease identifiers, build metadata may have them.
bool check_identifiers(std::string_view text, bool prerelease, std::string& error)
{
    const char* what = prerelease ? "prerelease" : "build metadata";
    for (std::size_t start = 0;;) {
        const std::size_t dot = text.find('.', start);
        const std::string_view id = text.substr(start, dot - start);
        if (id.empty()) {
            error = std::string("empty identifier in ") + what + " " + quoted(text);
            return false;
        }
        for (char c : id) {
            if (!is_identifier_char(c)) {
                error = std::string("bad character '") + c + "' in " + what + " " + quoted(text);
                return false;
            }
        }
        if (prerelease && id.size() > 1 && id.front() == '0' && all_digits(id)) {
            error = quoted(id) + " has a leading zero";
            return false;
        }
        if (dot == std::string_view::npos)
            return true;
        start = dot + 1;
    }
}

bool parse_partial(std::string_view text, Partial& out, std::string& error)
{
    if (text.empty()) {
        error = "a version is missing";
        return false;
    }
    if (const std::size_t plus = text.find('+'); plus != std::string_view::npos) {
        if (!check_identifiers(text.substr(plus + 1), false, error))
            return false;
        text = text.substr(0, plus);
    }
    std::string_view core = text;
    if (const std::size_t dash = text.find('-'); dash != std::string_view::npos) {
        const std::string_view pre = text.substr(dash + 1);
        if (!check_identifiers(pre, true, error))
            return false;
        out.version.prerelease = pre;
        core = text.substr(0, dash);
    }
    uint64_t* parts[] = {&out.version.major, &out.version.minor, &out.version.patch};
    for (std::size_t start = 0;;) {
        if (out.count == 3) {
            error = "more than three numbers in " + quoted(core);
            return false;
        }
        const std::size_t dot = core.find('.', start);
        if (!read_number(core.substr(start, dot - start), *parts[out.count++], error))
            return false;
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    if (!out.version.prerelease.empty() && out.count < 3) {
        error = "a prerelease needs major.minor.patch";
        return false;
    }
    return true;
}

// The smallest release above every version that shares parts [0, part] with
// `v`; nullopt when that part is already at its maximum.
std::optional<Version> bump(const Version& v, int part)
{
    Version next{v.major, v.minor, v.patch, {}};
    uint64_t* parts[] = {&next.major, &next.minor, &next.patch};
    if (*parts[part] == std::numeric_limits<uint64_t>::max())
        return std::nullopt;
    ++*parts[part];
    for (int i = part + 1; i < 3; ++i)
        *parts[i] = 0;
    return next;
}

// Index of the part a caret range may not change: the leftmost non-zero one
// among those written (^0 and ^0.0 still pin what they name).
int caret_part(const Partial& p)
{
    if (p.version.major != 0 || p.count == 1)
        return 0;
    if (p.version.minor != 0 || p.count == 2)
        return 1;
    return 2;
}

std::string_view leading_operator(std::string_view word)
{
    for (std::string_view op : {">=", "<=", ">", "<", "=", "^", "~"})
        if (word.starts_with(op))
            return op;
    return {};
}

std::vector<std::string_view> split_words(std::string_view text)
{
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t') {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t')
            ++i;
        words.push_back(text.substr(start, i - start));
    }
    return words;
}

// Numeric identifiers never have leading zeros once parsed, so comparing
// length first then text is numeric order; it also stays a total order
// consistent with == for hand-built values.
std::strong_ordering compare_identifier(std::string_view a, std::string_view b)
{
    const bool an = all_digits(a), bn = all_digits(b);
    if (an && bn) {
        if (a.size() != b.size())
            return a.size() <=> b.size();
        return a <=> b;
    }
    if (an != bn)
        return an ? std::strong_ordering::less : std::strong_ordering::greater;
    return a <=> b;
}

std::strong_ordering compare_prerelease(std::string_view a, std::string_view b)
{
    if (a.empty() || b.empty())
        return a.empty() <=> b.empty();  // a release sorts above its prereleases
    for (;;) {
        const std::size_t da = a.find('.'), db = b.find('.');
        if (const auto c = compare_identifier(a.substr(0, da), b.substr(0, db)); c != 0)
            return c;
        if (da == std::string_view::npos || db == std::string_view::npos)
            return (da != std::string_view::npos) <=> (db != std::string_view::npos);
        a.remove_prefix(da + 1);
        b.remove_prefix(db + 1);
    }
}

}  // namespace

std::optional<Version> Version::parse(std::string_view text)
{
    Partial p;
    std::string error;
    if (!parse_partial(text, p, error) || p.count != 3)
        return std::nullopt;
    return p.version;
}

std::string Version::str() const
{
    std::string s = std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
    if (!prerelease.empty())
        s += '-' + prerelease;
    return s;
}

std::strong_ordering operator<=>(const Version& a, const Version& b)
{
    if (a.major != b.major)
        return a.major <=> b.major;
    if (a.minor != b.minor)
        return a.minor <=> b.minor;
    if (a.patch != b.patch)
        return a.patch <=> b.patch;
    return compare_prerelease(a.prerelease, b.prerelease);
}

std::optional<VersionConstraint> VersionConstraint::parse(std::string_view text, std::string* error)
{
    auto fail = [error](std::string message) -> std::optional<VersionConstraint> {
        if (error)
            *error = std::move(message);
        return std::nullopt;
    };

    VersionConstraint c;
    c.text_ = text;
    const std::vector<std::string_view> words = split_words(text);
    if (words.empty())
        return fail("empty version constraint");

    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view word = words[i];
        if (word == "*")
            continue;
        const std::string_view op = leading_operator(word);
        std::string_view version = word.substr(op.size());
        std::string_view term = word;  // what error messages quote
        if (version.empty() && !op.empty() && i + 1 < words.size()) {
            version = words[++i];
            term = std::string_view(word.data(), static_cast<std::size_t>(version.data() + version.size() - word.data()));
        }

        Partial p;
        std::string why;
        if (!parse_partial(version, p, why))
            return fail(quoted(term) + ": " + why);

        const bool full = p.count == 3;
        const Version& v = p.version;
        auto add = [&c](Bound::Op o, const Version& at) { c.bounds_.push_back(Bound{o, at}); };
        // Upper bound of a range: below the next value of `part`.
        auto below_next = [&](int part) {
            const std::optional<Version> next = bump(v, part);
            if (next)
                add(Bound::Op::lt, *next);
            return next.has_value();
        };

        bool ok = true;
        if (op == ">=") {
            add(Bound::Op::ge, v);
        } else if (op == "<") {
            add(Bound::Op::lt, v);
        } else if (op == ">") {
            if (full) {
                add(Bound::Op::gt, v);
            } else if (const std::optional<Version> next = bump(v, p.count - 1)) {
                add(Bound::Op::ge, *next);
            } else {
                ok = false;
            }
        } else if (op == "<=") {
            if (full)
                add(Bound::Op::le, v);
            else
                ok = below_next(p.count - 1);
        } else if (op == "~") {
            add(Bound::Op::ge, v);
            ok = below_next(p.count == 1 ? 0 : 1);
        } else if (op == "^") {
            add(Bound::Op::ge, v);
            ok = below_next(caret_part(p));
        } else if (full) {  // "" or "="
            add(Bound::Op::eq, v);
        } else {
            add(Bound::Op::ge, v);
            ok = below_next(p.count - 1);
        }
        if (!ok)
            return fail(quoted(term) + ": numbers too large for a range");
    }
    return c;
}

bool VersionConstraint::matches(const Version& v) const
{
    for (const Bound& b : bounds_) {
        const auto c = v <=> b.version;
        bool holds = false;
        switch (b.op) {
        case Bound::Op::eq: holds = c == 0; break;
        case Bound::Op::gt: holds = c > 0; break;
        case Bound::Op::ge: holds = c >= 0; break;
        case Bound::Op::lt: holds = c < 0; break;
        case Bound::Op::le: holds = c <= 0; break;
        }
        if (!holds)
            return false;
    }
    if (v.prerelease.empty())
        return true;
    for (const Bound& b : bounds_) {
        const Version& bv = b.version;
        if (!bv.prerelease.empty() && bv.major == v.major && bv.minor == v.minor && bv.patch == v.patch)
            return true;
    }
    return false;
}

}  // namespace kerberus
