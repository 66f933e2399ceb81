/* The smallest plain-C plugin, built by install_test.sh with gcc against
 * the installed headers alone: GET /api/greeter/ answers "greetings". */
#include <kerberus/plugin.h>

static kerberus_status greet(kerberus_request *req, void *user_data)
{
    const kerberus_host_api *host = user_data;
    return host->respond(req, 200, "greetings\n", 10);
}

static kerberus_status greeter_init(const kerberus_host_api *host, kerberus_plugin_ctx *ctx, void **instance)
{
    kerberus_status status = host->route_add(ctx, "GET", "/", greet, (void *)host);
    *instance = NULL;
    if (status != KERBERUS_OK)
        host->set_error(ctx, "cannot register GET /", 21);
    return status;
}

static const kerberus_plugin_descriptor greeter_descriptor = {
    KERBERUS_DESCRIPTOR_HEADER, "greeter", "0.1.0", "Install test: a plain C plugin", greeter_init, NULL, NULL, NULL,
    NULL /* config_schema */,
};

KERBERUS_PLUGIN_ENTRY
{
    return &greeter_descriptor;
}
