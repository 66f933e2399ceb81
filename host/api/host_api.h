// The kerberus_host_api table handed to every plugin: the C functions that
// turn a plugin's handle into host state. One static table for all plugins.
#pragma once

#include "kerberus/plugin.h"

namespace kerberus::outbound {
class Client;
}

namespace kerberus::api {

const kerberus_host_api* host_api();

// The client behind outbound_send; set before any plugin is initialised and
// kept until every plugin is destroyed.
void set_outbound_client(outbound::Client* client);

}  // namespace kerberus::api
