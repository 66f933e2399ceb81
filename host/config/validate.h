// Turns the merged document into a typed Config, with an error at the exact
// file position of the first value that does not fit.
#pragma once

#include "config/config.h"
#include "config/value.h"

namespace kerberus::config::detail {

// A null value anywhere means "not set": the setting keeps its default.
Config validate(const Value& document);

}  // namespace kerberus::config::detail
