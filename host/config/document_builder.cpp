#include "config/document_builder.h"

#include <utility>

namespace kerberus::config::detail {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

std::string position(const Location& where) {
    return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string amount_of_text(std::size_t bytes) {
    if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
    return std::to_string(bytes) + " bytes";
}

// Names the character the parser stopped at. yaml-cpp counts positions in
// bytes after a UTF-8 byte order mark; text in UTF-16 or UTF-32 (a zero byte
// or their mark at the start) is not looked into.
std::string unexpected(std::string_view text, const YAML::Mark& mark) {
    constexpr std::string_view kUtf8Mark = "\xEF\xBB\xBF";
    if (text.starts_with(kUtf8Mark)) text.remove_prefix(kUtf8Mark.size());
    bool utf8 = text.substr(0, 4).find('\0') == std::string_view::npos && !text.starts_with("\xFE\xFF") &&
                !text.starts_with("\xFF\xFE");
    if (utf8 && mark.pos >= 0 && static_cast<std::size_t>(mark.pos) < text.size()) {
        char c = text[static_cast<std::size_t>(mark.pos)];
        if (c > ' ' && c < 0x7f) return std::string("YAML syntax error: unexpected '") + c + "'";
    }
    return "YAML syntax error: unexpected input";
}

}  // namespace

Location location(const std::string& file, const YAML::Mark& mark) {
    if (mark.is_null()) return {file, 0, 0};
    return {file, mark.line + 1, mark.column + 1};
}

DocumentBuilder::DocumentBuilder(const std::string& file, std::string_view text, const DocumentLimits& limits)
    : file_(file), text_(text), limits_(limits) {}

// yaml-cpp 0.7 hands out the same document again, forever, when one
// consumes no input.
void DocumentBuilder::OnDocumentStart(const YAML::Mark& mark) {
    if (documents_ > 0 && mark.pos == document_start_) {
        throw ConfigError(location(file_, mark), "", unexpected(text_, mark));
    }
    event(&mark);
    ++documents_;
    document_start_ = mark.pos;
}

void DocumentBuilder::OnDocumentEnd() { event(nullptr); }

void DocumentBuilder::OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
    event(&mark);
    if (!building(mark)) return;
    Slot slot = next_slot();
    std::size_t index = create(Value::Kind::null, mark, anchor);
    add(index, slot, nodes_[index].value.where);
}

void DocumentBuilder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
    event(&mark);
    if (!building(mark)) return;
    Slot slot = next_slot();
    auto anchored = anchors_.find(anchor);
    // The parser rejects an undefined anchor first; this keeps a surprise an error.
    if (anchored == anchors_.end()) return fail(location(file_, mark), slot.path, "YAML syntax error: unknown anchor");
    const Node& target = nodes_[anchored->second];
    // Only a collection is open, and only an ancestor of this alias is.
    if (target.open) {
        if (slot.key) return fail(target.value.where, slot.path, "a map key must be a scalar");
        return fail(target.value.where, slot.path, "an alias refers to a node that contains it");
    }
    add(anchored->second, slot, location(file_, mark));
}

void DocumentBuilder::OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                               const std::string& value) {
    event(&mark);
    if (!building(mark)) return;
    Slot slot = next_slot();
    std::size_t index = create(Value::Kind::scalar, mark, anchor);
    Node& node = nodes_[index];
    node.value.text = value;
    // The parser tags untagged plain scalars "?" and quoted ones "!".
    node.value.plain = tag == "?";
    node.text_bytes = value.size();
    add(index, slot, node.value.where);
}

void DocumentBuilder::OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                                      YAML::EmitterStyle::value /*style*/) {
    event(&mark);
    if (building(mark)) start(Value::Kind::sequence, mark, anchor);
}

void DocumentBuilder::OnSequenceEnd() {
    event(nullptr);
    if (!idle()) close();
}

void DocumentBuilder::OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                                 YAML::EmitterStyle::value /*style*/) {
    event(&mark);
    if (building(mark)) start(Value::Kind::map, mark, anchor);
}

void DocumentBuilder::OnMapEnd() {
    event(nullptr);
    if (!idle()) close();
}

void DocumentBuilder::OnAnchor(const YAML::Mark& mark, const std::string& /*name*/) { event(&mark); }

Value DocumentBuilder::document() const {
    throw_found();
    if (!root_) {
        Value empty;
        empty.where = {file_, 1, 1};
        return empty;
    }
    return tree(*root_);
}

void DocumentBuilder::event(const YAML::Mark* mark) {
    if (mark != nullptr) last_mark_ = *mark;
    if (++events_ > limits_.events) {
        throw_found();
        throw ConfigError(location(file_, last_mark_), "",
                          "the file has more than " + std::to_string(limits_.events) + " YAML parser events");
    }
    if (mark == nullptr) return;
    if (mark->pos > furthest_) {
        furthest_ = mark->pos;
        in_place_ = 0;
    } else if (++in_place_ > limits_.events_in_place) {
        throw ConfigError(location(file_, *mark), "", unexpected(text_, *mark));
    }
}

// Past the first document only the second one's position matters; after a
// problem, nothing does.
bool DocumentBuilder::building(const YAML::Mark& mark) {
    if (documents_ > 1 && !second_) second_ = location(file_, mark);
    return !idle();
}

bool DocumentBuilder::idle() const { return documents_ > 1 || problem_; }

DocumentBuilder::Slot DocumentBuilder::next_slot() const {
    if (open_.empty()) return {};
    const Open& parent = open_.back();
    const Node& collection = nodes_[parent.node];
    if (collection.value.kind == Value::Kind::sequence) {
        return {false, element_path(parent.path, collection.children.size())};
    }
    if (collection.children.size() % 2 == 0) return {true, parent.path};
    return {false, child_path(parent.path, nodes_[collection.children.back()].value.text)};
}

std::size_t DocumentBuilder::create(Value::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Node& node = nodes_.emplace_back();
    node.value.kind = kind;
    node.value.where = location(file_, mark);
    std::size_t index = nodes_.size() - 1;
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
    return index;
}

// Counted as the old converter did: every node of the expanded tree but map
// keys, before its children. `blame` is the node's position, or the alias's.
void DocumentBuilder::add(std::size_t index, const Slot& slot, const Location& blame) {
    const Node& node = nodes_[index];
    if (slot.key) {
        if (node.value.kind != Value::Kind::scalar) {
            return fail(node.value.where, slot.path, "a map key must be a scalar");
        }
        auto [first, added] = open_.back().keys.try_emplace(node.value.text, node.value.where);
        if (!added) {
            return fail(node.value.where, child_path(slot.path, node.value.text),
                        "duplicate key (first at " + position(first->second) + ")");
        }
    } else {
        expanded_nodes_ += node.nodes;
        if (expanded_nodes_ > limits_.nodes) {
            return fail(blame, slot.path,
                        "the document has more than " + std::to_string(limits_.nodes) +
                            " nodes once aliases are expanded");
        }
    }
    expanded_text_bytes_ += node.text_bytes;
    if (expanded_text_bytes_ > limits_.text_bytes) {
        return fail(blame, slot.path,
                    "the document has more than " + amount_of_text(limits_.text_bytes) +
                        " of text once aliases are expanded");
    }
    if (open_.empty()) {
        root_ = index;
    } else {
        nodes_[open_.back().node].children.push_back(index);
    }
}

void DocumentBuilder::start(Value::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Slot slot = next_slot();
    std::size_t nodes_before = expanded_nodes_;
    std::size_t text_bytes_before = expanded_text_bytes_;
    std::size_t index = create(kind, mark, anchor);
    add(index, slot, nodes_[index].value.where);
    if (problem_) return;
    nodes_[index].open = true;
    open_.push_back({index, std::move(slot.path), nodes_before, text_bytes_before, {}});
}

void DocumentBuilder::close() {
    Open& collection = open_.back();
    Node& node = nodes_[collection.node];
    node.open = false;
    node.nodes = expanded_nodes_ - collection.nodes_before;
    node.text_bytes = expanded_text_bytes_ - collection.text_bytes_before;
    open_.pop_back();
}

void DocumentBuilder::fail(const Location& where, const std::string& path, const std::string& message) {
    if (!problem_) problem_.emplace(where, path, message);
}

void DocumentBuilder::throw_found() const {
    if (second_) throw ConfigError(*second_, "", "a configuration file holds one YAML document, this is the second");
    if (problem_) throw *problem_;
}

Value DocumentBuilder::tree(std::size_t index) const {
    const Node& node = nodes_[index];
    Value value = node.value;
    if (value.kind == Value::Kind::sequence) {
        value.items.reserve(node.children.size());
        for (std::size_t child : node.children) value.items.push_back(tree(child));
    } else if (value.kind == Value::Kind::map) {
        value.entries.reserve(node.children.size() / 2);
        for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
            const Value& key = nodes_[node.children[i]].value;
            value.entries.push_back({key.text, key.where, tree(node.children[i + 1])});
        }
    }
    return value;
}

}  // namespace kerberus::config::detail
