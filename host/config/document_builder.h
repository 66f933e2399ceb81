// Builds the Value tree of one file straight from yaml-cpp's parser events.
// yaml-cpp 0.7's own loader (YAML::LoadAll) never ends on a document that
// consumes no input, such as ",\n" (upstream issue #1040), and shares aliased
// nodes that the loader then copies; here every bound applies while the
// events arrive, so no input makes the loader loop or grow without bound.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>

#include "config/config.h"
#include "config/value.h"

namespace kerberus::config::detail {

// What one file may make the loader do. Real configurations stay far below
// every limit; tests lower them.
struct DocumentLimits {
    // Aliases are copied, so a few lines of nested aliases could expand to
    // billions of nodes, or repeat a long string as often.
    std::size_t nodes = 100'000;
    std::size_t text_bytes = 128 * 1024 * 1024;
    // Parser events over the whole file. A document within `nodes` needs at
    // most four per node; the rest is a guard on the parser itself.
    std::size_t events = 1'000'000;
    // Events in a row that get no further into the text. A parser that
    // advances emits a handful at one place.
    std::size_t events_in_place = 1'000;
};

// 1-based; yaml-cpp's marks are 0-based.
Location location(const std::string& file, const YAML::Mark& mark);

// Fed by YAML::Parser::HandleNextDocument for every document of one file.
// Throws ConfigError from the event that shows the parser is not advancing
// or that a limit on events is crossed; problems in the document itself are
// kept for document(), so a syntax error anywhere in the file is reported
// first, as yaml-cpp's loader did.
class DocumentBuilder final : public YAML::EventHandler {
public:
    DocumentBuilder(const std::string& file, std::string_view text, const DocumentLimits& limits);

    void OnDocumentStart(const YAML::Mark& mark) override;
    void OnDocumentEnd() override;
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override;
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override;
    void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value style) override;
    void OnSequenceEnd() override;
    void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value style) override;
    void OnMapEnd() override;
    void OnAnchor(const YAML::Mark& mark, const std::string& name) override;

    // Once the parser has no more documents: the first one (null at 1:1 when
    // the file has none). Throws ConfigError for a second document, then for
    // the first problem found in the first: a map key that is not a scalar, a
    // duplicate key, an alias inside its own anchor, a limit crossed.
    Value document() const;

private:
    // A node as parsed. An alias is the index of its anchored node again; the
    // copies are made by document(), after every check passed.
    struct Node {
        Value value;                        // without entries or items
        std::vector<std::size_t> children;  // a map's keys and values alternate
        std::size_t nodes = 1;              // once aliases are expanded
        std::size_t text_bytes = 0;
        bool open = false;  // a collection whose end has not come yet
    };

    // A map or sequence whose end has not come yet.
    struct Open {
        std::size_t node;
        std::string path;
        std::size_t nodes_before;
        std::size_t text_bytes_before;
        std::unordered_map<std::string, Location> keys;
    };

    // Where the next node goes: a map key is checked as a key; anything else
    // has a key path of its own.
    struct Slot {
        bool key = false;
        std::string path;  // a key's map, or the node itself
    };

    void event(const YAML::Mark* mark);
    bool building(const YAML::Mark& mark);
    bool idle() const;
    Slot next_slot() const;
    std::size_t create(Value::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor);
    void add(std::size_t index, const Slot& slot, const Location& blame);
    void start(Value::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor);
    void close();
    void fail(const Location& where, const std::string& path, const std::string& message);
    void throw_found() const;
    Value tree(std::size_t index) const;

    const std::string& file_;
    std::string_view text_;
    DocumentLimits limits_;

    std::size_t events_ = 0;
    int furthest_ = -1;  // the furthest position any event named
    std::size_t in_place_ = 0;
    YAML::Mark last_mark_;
    std::size_t documents_ = 0;
    int document_start_ = -1;
    std::optional<Location> second_;  // where the second document's root is

    std::vector<Node> nodes_;
    std::vector<Open> open_;
    std::unordered_map<YAML::anchor_t, std::size_t> anchors_;
    std::optional<std::size_t> root_;
    std::size_t expanded_nodes_ = 0;
    std::size_t expanded_text_bytes_ = 0;
    std::optional<ConfigError> problem_;
};

}  // namespace kerberus::config::detail
