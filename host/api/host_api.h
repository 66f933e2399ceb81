// The kerberus_host_api table handed to every plugin: the C functions that
// turn a plugin's handle into host state. One static table for all plugins.
#pragma once

#include "kerberus/plugin.h"

namespace kerberus::api {

const kerberus_host_api* host_api();

}  // namespace kerberus::api
