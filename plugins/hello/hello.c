/*
 * hello — the smallest useful kerberus plugin, and the one to copy.
 *
 * Plain C99 against <kerberus/plugin.h> alone, so every part of the ABI is
 * in plain sight: the descriptor and its entry function, the lifecycle
 * callbacks, reading config, registering routes and answering requests.
 *
 *   GET /api/hello/        ->  "Hello, world!"
 *   GET /api/hello/<name>  ->  "Hello, <name>!"
 *
 * Config (plugins.hello.config in kerberus.yaml), described by the JSON
 * Schema below, which the host checks before init:
 *   greeting   string, default "Hello"
 */
#include <stdlib.h>
#include <string.h>

#include <kerberus/plugin.h>

static const char default_name[] = "world";
static const char text_plain[] = "text/plain; charset=utf-8";

/*
 * Everything one instance owns. Each init call makes a new instance, and
 * init may run more than once while the file is loaded, so state lives
 * here, never in globals.
 */
typedef struct hello_instance {
    const kerberus_host_api *host;
    kerberus_plugin_ctx *ctx;
    /* Either the default or a view into the host's config, which stays
     * valid until destroy returns: no copy needed. */
    kerberus_str greeting;
} hello_instance;

/* set_error() takes a length: data crossing the ABI is pointer + length. */
static void fail(const hello_instance *self, const char *message)
{
    self->host->set_error(self->ctx, message, strlen(message));
}

/*
 * The settings this plugin takes, as a JSON Schema (draft-04). The host
 * checks plugins.hello.config against it before init, at `--check` and on
 * reload: a wrong setting is a configuration error with file:line:col and
 * key path, so init never sees one. `default` fills in what is left out.
 */
static const char config_schema[] =
    "{"
    "  \"type\": \"object\","
    "  \"properties\": {"
    "    \"greeting\": {\"type\": \"string\", \"minLength\": 1, \"default\": \"Hello\","
    "                   \"description\": \"what to greet with\"}"
    "  },"
    "  \"additionalProperties\": false"
    "}";

/* Appends `s` at `out` and returns the end; memcpy must not see the NULL
 * an empty kerberus_str may carry. */
static char *append(char *out, kerberus_str s)
{
    if (s.len > 0)
        memcpy(out, s.data, s.len);
    return out + s.len;
}

/*
 * The handler of both routes. It runs on HTTP worker threads, possibly
 * several at once, so it only reads the instance and keeps its own data on
 * the stack or in its own allocations.
 */
static kerberus_status hello_get(kerberus_request *req, void *user_data)
{
    const hello_instance *self = user_data;
    const kerberus_host_api *host = self->host;
    kerberus_str name;
    kerberus_str punctuation = {"!\n", 2};
    kerberus_str comma = {", ", 2};
    kerberus_status status;
    size_t len;
    char *body;
    char *end;

    /* "/" has no :name parameter; "/:name" always has a non-empty one. */
    if (host->request_param(req, "name", &name) != KERBERUS_OK) {
        name.data = default_name;
        name.len = sizeof default_name - 1;
    }

    len = self->greeting.len + comma.len + name.len + punctuation.len;
    body = malloc(len);
    if (body == NULL)
        return KERBERUS_ERR_INTERNAL; /* the host answers 500 and logs it */
    end = append(body, self->greeting);
    end = append(end, comma);
    end = append(end, name);
    append(end, punctuation);

    /* Header names are NUL-terminated; values are pointer + length. */
    host->response_header_add(req, "Content-Type", text_plain, sizeof text_plain - 1);
    /* respond() copies the body before it returns, so it is ours to free. */
    status = host->respond(req, 200, body, len);
    free(body);
    /* KERBERUS_OK, or an error the host turns into a 500 and a log line. */
    return status;
}

/*
 * Runs once per instance on the main thread. Every failure path calls
 * set_error() first, so `kerberusd --check` and the log say what is wrong.
 */
static kerberus_status hello_init(const kerberus_host_api *host, kerberus_plugin_ctx *ctx, void **instance)
{
    hello_instance *self;
    kerberus_status status;

    /*
     * Built against this header, the plugin declares its ABI minor and
     * loads only into a host that has every function of it. A plugin that
     * declares an older minor tests later functions before use:
     *     if (KERBERUS_HOST_HAS(host, route_describe)) ...
     */
    self = calloc(1, sizeof *self);
    if (self == NULL) {
        host->set_error(ctx, "out of memory", 13);
        return KERBERUS_ERR_INTERNAL;
    }
    self->host = host;
    self->ctx = ctx;
    /* Published at once: destroy runs even after a failed init and frees it. */
    *instance = self;

    /* The schema made sure it is there (its default) and is a string. */
    status = self->host->config_get_string(ctx, "greeting", &self->greeting);
    if (status != KERBERUS_OK) {
        fail(self, "cannot read config key 'greeting'");
        return status;
    }

    /* Patterns are relative to /api/hello; user_data hands the handler its
     * instance. Routes can only be added here, during init. */
    status = host->route_add(ctx, "GET", "/", hello_get, self);
    if (status == KERBERUS_OK)
        status = host->route_add(ctx, "GET", "/:name", hello_get, self);
    if (status != KERBERUS_OK) {
        fail(self, "cannot register the routes GET / and GET /:name");
        return status;
    }

    /* One line per route for the inventory, OpenAPI and the dashboard. */
    host->route_describe(ctx, "GET", "/", "Greets the world", 16);
    host->route_describe(ctx, "GET", "/:name", "Greets :name", 12);
    return KERBERUS_OK;
}

/* Frees what init allocated; runs on the main thread after stop (or after
 * a failed init). The host may unload the file once this returns. */
static void hello_destroy(void *instance)
{
    free(instance);
}

/*
 * The descriptor: static, constant, read by the host before anything else.
 * KERBERUS_DESCRIPTOR_HEADER records the size and the ABI version this file
 * was compiled against, which is how the host refuses an incompatible build.
 */
static const kerberus_plugin_descriptor hello_descriptor = {
    KERBERUS_DESCRIPTOR_HEADER,
    .id = "hello",
    .version = "1.0.0",
    .description = "Greets the world, or whoever is named in the path",
    .init = hello_init,
    .stop = NULL,   /* no threads and no kept requests: nothing to stop */
    .destroy = hello_destroy,
    .health = NULL, /* always healthy */
    .config_schema = config_schema,
};

/* The one exported symbol. It must only return the descriptor: the host
 * also calls it for plugins it merely inspects (kerberusd --check). */
KERBERUS_PLUGIN_ENTRY
{
    return &hello_descriptor;
}
