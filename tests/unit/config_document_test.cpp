// One file's text to its Value tree: what each kind of document gives (the
// same trees yaml-cpp's own loader led to), which problem is reported first,
// and the limits that keep any input from looping or growing without bound.
#include <gtest/gtest.h>

#include <string>

#include <yaml-cpp/mark.h>

#include "config/document_builder.h"
#include "config/yaml_document.h"

namespace kerberus::config::detail {
namespace {

std::string at(const Location& where) { return "@" + std::to_string(where.line) + ":" + std::to_string(where.column); }

// Plain scalars bare, quoted ones in double quotes; every node and key with
// its position.
std::string show(const Value& value) {
    switch (value.kind) {
        case Value::Kind::null:
            return "~" + at(value.where);
        case Value::Kind::scalar: {
            std::string text;
            for (char c : value.text) text += c == '\n' ? std::string("\\n") : std::string(1, c);
            return (value.plain ? text : "\"" + text + "\"") + at(value.where);
        }
        case Value::Kind::sequence: {
            std::string out = "[";
            for (const Value& item : value.items) out += (out.size() > 1 ? ", " : "") + show(item);
            return out + "]" + at(value.where);
        }
        case Value::Kind::map: {
            std::string out = "{";
            for (const Entry& entry : value.entries) {
                out += (out.size() > 1 ? ", " : "") + entry.key + at(entry.key_where) + ": " + show(entry.value);
            }
            return out + "}" + at(value.where);
        }
    }
    return "?";
}

// The tree, or the error's text.
std::string parsed(const std::string& text, const DocumentLimits& limits = {}) {
    try {
        return show(parse_document(text, "a.yaml", limits));
    } catch (const ConfigError& e) {
        return e.what();
    }
}

TEST(ConfigDocumentTest, NothingToRead) {
    EXPECT_EQ(parsed(""), "~@1:1");
    EXPECT_EQ(parsed("# nothing yet\n# still nothing\n"), "~@1:1");
    EXPECT_EQ(parsed("---\n"), "~@2:1");
    EXPECT_EQ(parsed("a: 1\n...\n"), "{a@1:1: 1@1:4}@1:1");
}

TEST(ConfigDocumentTest, NestedBlockAndFlow) {
    EXPECT_EQ(parsed("server:\n  listen: 127.0.0.1:7007\n  list:\n    - x\n    - y: 1\n      z: 2\n    -\n    - - n\n"),
              "{server@1:1: {listen@2:3: 127.0.0.1:7007@2:11, list@3:3: [x@4:7, {y@5:7: 1@5:10, z@6:7: 2@6:10}@5:7, "
              "~@8:5, [n@8:9]@8:7]@4:5}@2:3}@1:1");
    EXPECT_EQ(parsed("{a: 1, b: [x, y], c: {d: e}}"),
              "{a@1:2: 1@1:5, b@1:8: [x@1:12, y@1:15]@1:11, c@1:19: {d@1:23: e@1:26}@1:22}@1:1");
    EXPECT_EQ(parsed("[a: 1, b]"), "[{a@1:2: 1@1:5}@1:2, b@1:8]@1:1");
    // A key without a value gets a null at the key's '?'.
    EXPECT_EQ(parsed("? a\n? b\n: c\n"), "{a@1:3: ~@1:1, b@2:3: c@3:3}@1:1");
    EXPECT_EQ(parsed("a: 1\r\nb: 2\r\n"), "{a@1:1: 1@1:4, b@2:1: 2@2:4}@1:1");
    EXPECT_EQ(parsed("\xEF\xBB\xBF" "a: 1\n"), "{a@1:1: 1@1:4}@1:1");
}

TEST(ConfigDocumentTest, QuotedAndPlainScalars) {
    EXPECT_EQ(parsed("a: '1'\nb: \"2\"\nc: 3\nd: !!str 4\ne: ~\nf: ''\ng: !!str\nh: null\n"),
              "{a@1:1: \"1\"@1:4, b@2:1: \"2\"@2:4, c@3:1: 3@3:4, d@4:1: \"4\"@4:4, e@5:1: ~@5:4, f@6:1: \"\"@6:4, "
              "g@7:1: \"\"@7:4, h@8:1: ~@8:4}@1:1");
}

TEST(ConfigDocumentTest, MultiLineStrings) {
    EXPECT_EQ(parsed("a: |\n  line1\n  line2\n"
                     "b: >\n  fold\n  ed\n"
                     "c: |-\n  x\n"
                     "d: \"multi\n  line\"\n"
                     "e: plain\n  continued\n"),
              "{a@1:1: \"line1\\nline2\\n\"@1:4, b@4:1: \"fold ed\\n\"@4:4, c@7:1: \"x\"@7:4, "
              "d@9:1: \"multi line\"@9:4, e@11:1: plain continued@11:4}@1:1");
}

// An alias is a copy of its anchor's value, positions included.
TEST(ConfigDocumentTest, AliasesCopyTheAnchoredValue) {
    EXPECT_EQ(parsed("base: &base {host: db, port: 5432}\nprimary: *base\nreplicas: [*base, *base]\n"),
              "{base@1:1: {host@1:14: db@1:20, port@1:24: 5432@1:30}@1:7, "
              "primary@2:1: {host@1:14: db@1:20, port@1:24: 5432@1:30}@1:7, "
              "replicas@3:1: [{host@1:14: db@1:20, port@1:24: 5432@1:30}@1:7, "
              "{host@1:14: db@1:20, port@1:24: 5432@1:30}@1:7]@3:11}@1:1");
    EXPECT_EQ(parsed("a: &o {i: &i [1, 2], j: *i}\nb: *o\nc: *i\n"),
              "{a@1:1: {i@1:8: [1@1:15, 2@1:18]@1:11, j@1:22: [1@1:15, 2@1:18]@1:11}@1:4, "
              "b@2:1: {i@1:8: [1@1:15, 2@1:18]@1:11, j@1:22: [1@1:15, 2@1:18]@1:11}@1:4, "
              "c@3:1: [1@1:15, 2@1:18]@1:11}@1:1");
    EXPECT_EQ(parsed("name: &n hello\n*n : world\n"), "{name@1:1: hello@1:7, hello@1:7: world@2:6}@1:1");
    // The latest anchor of a name wins.
    EXPECT_EQ(parsed("a: &x 1\nb: &x 2\nc: *x\n"), "{a@1:1: 1@1:4, b@2:1: 2@2:4, c@3:1: 2@2:4}@1:1");
    EXPECT_EQ(parsed("a: &n\nb: *n\n"), "{a@1:1: ~@1:4, b@2:1: ~@1:4}@1:1");
    EXPECT_EQ(parsed("a: &q 'quoted'\nb: *q\n"), "{a@1:1: \"quoted\"@1:4, b@2:1: \"quoted\"@1:4}@1:1");
}

TEST(ConfigDocumentTest, AliasProblems) {
    EXPECT_EQ(parsed("a: &m\n  b:\n    c: *m\n"), "a.yaml:1:4: a.b.c: an alias refers to a node that contains it");
    EXPECT_EQ(parsed("a: &m {b: 1}\n? *m\n: 2\n"), "a.yaml:1:4: a map key must be a scalar");
    EXPECT_EQ(parsed("&m {*m : 1}\n"), "a.yaml:1:1: a map key must be a scalar");
    EXPECT_EQ(parsed("a: &n\n*n : 1\n"), "a.yaml:1:4: a map key must be a scalar");
    EXPECT_EQ(parsed("a: *nowhere\n"), "a.yaml:1:4: YAML syntax error: the referenced anchor is not defined");
}

// As with yaml-cpp's own loader: a syntax error anywhere comes first, then a
// second document, then the first problem inside the first document.
TEST(ConfigDocumentTest, WhichProblemIsReported) {
    EXPECT_EQ(parsed("a: 1\na: 2\nb: [\n"), "a.yaml:4:1: YAML syntax error: end of sequence flow not found");
    EXPECT_EQ(parsed("a: 1\na: 2\n---\nb: 1\n"),
              "a.yaml:4:1: a configuration file holds one YAML document, this is the second");
    EXPECT_EQ(parsed("a: 1\na: 2\n---\nb: [\n"), "a.yaml:5:1: YAML syntax error: end of sequence flow not found");
    EXPECT_EQ(parsed("a: 1\na: 2\nb: 1\nb: 2\n"), "a.yaml:2:1: a: duplicate key (first at a.yaml:1:1)");
    EXPECT_EQ(parsed("a: 1\na: 2\n,\n"), "a.yaml:3:1: YAML syntax error: end of map not found");
}

// Counted as before: every node of the expanded tree except map keys; the
// error points at the alias that crossed the limit.
TEST(ConfigDocumentTest, NodeLimit) {
    const std::string text = "a: &x [1, 2, 3]\nb: [*x, *x]\n";
    EXPECT_NO_THROW(parse_document(text, "a.yaml", {.nodes = 14}));
    EXPECT_EQ(parsed(text, {.nodes = 13}),
              "a.yaml:2:9: b[1]: the document has more than 13 nodes once aliases are expanded");
    EXPECT_EQ(parsed("[a, b, c]", {.nodes = 3}),
              "a.yaml:1:8: [2]: the document has more than 3 nodes once aliases are expanded");
}

// Nodes alone do not bound a long string repeated through aliases.
TEST(ConfigDocumentTest, TextLimit) {
    const std::string text = "a: &s abcdefghij\nb: [*s, *s]\n";
    EXPECT_NO_THROW(parse_document(text, "a.yaml", {.text_bytes = 32}));
    EXPECT_EQ(parsed(text, {.text_bytes = 31}),
              "a.yaml:2:9: b[1]: the document has more than 31 bytes of text once aliases are expanded");
    std::string doubling = "s: &s " + std::string(1024 * 1024, 'x') + "\nl0: &l0 [*s, *s]\n";
    for (int i = 1; i <= 10; ++i) {
        doubling += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
                    std::to_string(i - 1) + "]\n";
    }
    EXPECT_EQ(parsed(doubling),
              "a.yaml:8:10: l6[0]: the document has more than 128 MiB of text once aliases are expanded");
}

TEST(ConfigDocumentTest, EventLimit) {
    EXPECT_EQ(parsed("[a, b, c, d]", {.events = 8}), "[a@1:2, b@1:5, c@1:8, d@1:11]@1:1");
    EXPECT_EQ(parsed("[a, b, c, d]", {.events = 5}), "a.yaml:1:11: the file has more than 5 YAML parser events");
    // A second document found by then is the better answer.
    std::string documents;
    for (int i = 0; i < 10; ++i) documents += "---\n";
    EXPECT_EQ(parsed(documents, {.events = 10}),
              "a.yaml:3:1: a configuration file holds one YAML document, this is the second");
}

// yaml-cpp 0.7 gets stuck only between documents, where the builder sees
// the same document start again; inside a document the same would show as
// events that stay in place.
TEST(ConfigDocumentTest, EventsThatStayInPlace) {
    const std::string text = "[,";
    const std::string file = "a.yaml";
    DocumentBuilder builder(file, text, {.events_in_place = 3});
    YAML::Mark open;
    YAML::Mark comma;
    comma.pos = 1;
    comma.column = 1;
    builder.OnDocumentStart(open);
    builder.OnSequenceStart(open, "?", YAML::NullAnchor, YAML::EmitterStyle::Flow);
    builder.OnNull(comma, YAML::NullAnchor);
    builder.OnNull(comma, YAML::NullAnchor);
    builder.OnNull(comma, YAML::NullAnchor);
    builder.OnNull(comma, YAML::NullAnchor);
    try {
        builder.OnNull(comma, YAML::NullAnchor);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "a.yaml:1:2: YAML syntax error: unexpected ','");
    }
}

std::string printable_and_whitespace() {
    std::string alphabet = "\t\n\r";
    for (char c = ' '; c < 0x7f; ++c) alphabet += c;
    return alphabet;
}

// Every 1- and 2-byte input ends, with a tree or an error at a position.
// (Before, 103 of them looped: each with a ',' that no document consumes.)
TEST(ConfigDocumentTest, EveryShortInputEnds) {
    const std::string alphabet = printable_and_whitespace();
    std::size_t stuck = 0;
    auto check = [&](const std::string& text) {
        try {
            parse_document(text, "a.yaml");
        } catch (const ConfigError& e) {
            EXPECT_GT(e.where().line, 0) << '"' << text << "\": " << e.what();
            if (e.message().starts_with("YAML syntax error: unexpected '")) ++stuck;
        }
    };
    for (char a : alphabet) {
        check(std::string(1, a));
        for (char b : alphabet) check(std::string{a, b});
    }
    EXPECT_EQ(stuck, 103u);
}

}  // namespace
}  // namespace kerberus::config::detail
