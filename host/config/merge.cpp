#include "config/merge.h"

#include <utility>

namespace kerberus::config::detail {

void merge(Value& base, Value&& overlay) {
    // A key written without a value (often one whose settings are all
    // commented out in an override file) must not wipe what earlier files set.
    if (overlay.kind == Value::Kind::null) return;
    if (base.kind != Value::Kind::map || overlay.kind != Value::Kind::map) {
        base = std::move(overlay);
        return;
    }
    for (Entry& entry : overlay.entries) {
        if (Entry* existing = base.find(entry.key)) {
            existing->key_where = entry.key_where;
            merge(existing->value, std::move(entry.value));
        } else {
            base.entries.push_back(std::move(entry));
        }
    }
    base.where = overlay.where;
}

}  // namespace kerberus::config::detail
