// Layering of configuration files: later files win; maps merge key by key at
// every depth, lists and scalars are replaced whole.
#pragma once

#include "config/value.h"

namespace kerberus::config::detail {

void merge(Value& base, Value&& overlay);

}  // namespace kerberus::config::detail
