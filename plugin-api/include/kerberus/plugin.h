/*
 * kerberus/plugin.h — the kerberus plugin ABI (C99).
 *
 * This header is the whole contract between kerberusd and a plugin. A plugin
 * author needs nothing else: no host sources, no C++ runtime, no libraries.
 *
 * ------------------------------------------------------------------------
 * How a plugin is found and checked
 * ------------------------------------------------------------------------
 * A plugin is a shared object that exports exactly one entry function whose
 * name carries the ABI major version:
 *
 *     KERBERUS_PLUGIN_EXPORT const kerberus_plugin_descriptor *kerberus_plugin_v1(void);
 *
 * The host dlopen()s every `*.so` / `*.so.X.Y.Z` file in its plugin
 * directories (RTLD_NOW | RTLD_LOCAL), looks that symbol up and calls it once.
 * The function must return a pointer to a descriptor with static storage; it
 * must not allocate, start threads or do work — it may be called by
 * `kerberusd --check` for a plugin that will never be initialised.
 *
 * The host reads the descriptor's ABI version before any other field:
 *   - abi_major must equal the host's KERBERUS_ABI_MAJOR;
 *   - abi_minor must be <= the host's KERBERUS_ABI_MINOR (a plugin built
 *     against a newer minor may call functions this host does not have).
 * Otherwise the file is refused with one log line naming the file, both ABI
 * versions and what to do, and every other plugin keeps loading.
 *
 * ------------------------------------------------------------------------
 * Compatibility rules (what "ABI v1" promises)
 * ------------------------------------------------------------------------
 *   - Structs crossing the boundary start with `struct_size`. Fields are only
 *     ever appended; a reader never touches a field that lies beyond the
 *     writer's struct_size. Nothing is ever removed, reordered or retyped
 *     within a major version.
 *   - A new host function appends a field to kerberus_host_api and raises
 *     KERBERUS_ABI_MINOR. Plugins built against an older minor keep working
 *     unchanged. Test for a function with KERBERUS_HOST_HAS(host, field)
 *     before calling anything added after minor 0.
 *   - Any incompatible change gets a new entry symbol (kerberus_plugin_v2);
 *     a host may support several majors side by side.
 *   - Only C types cross the boundary: fixed-width integers, pointers with a
 *     length, opaque handles and function pointers. No C++ exceptions may
 *     unwind through any function of this header in either direction.
 *
 * ------------------------------------------------------------------------
 * Strings and ownership
 * ------------------------------------------------------------------------
 *   - Names and keys the plugin passes in (config keys, header names, route
 *     patterns, parameter names) are NUL-terminated. Data (bodies, header
 *     values, log messages) is a pointer plus a length and need not be.
 *   - Strings the host hands out are kerberus_str views: `data` is NOT
 *     guaranteed to be NUL-terminated; use `len`. They are owned by the host
 *     and stay valid for the lifetime stated on each function. Copy what you
 *     keep longer.
 *   - Whatever the plugin passes to the host (bodies, header values, messages)
 *     is copied before the call returns; the plugin keeps ownership. A data
 *     pointer may be NULL when its length is 0.
 *   - Nothing allocated on one side is ever freed on the other.
 *
 * ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------
 *   - Lifecycle callbacks (init, stop, destroy) run on the host's main thread,
 *     one plugin at a time, never concurrently with each other.
 *   - Route handlers run on the HTTP worker threads, concurrently with each
 *     other and with themselves (several workers): make them thread-safe.
 *     A handler must not block: no sleeping, no blocking I/O on an upstream.
 *     Work that waits goes to a thread of the plugin's own, which completes
 *     the request with respond() when it is done (see "Async responses").
 *   - Host functions are thread-safe unless their comment says otherwise.
 *
 * ------------------------------------------------------------------------
 * Async responses
 * ------------------------------------------------------------------------
 * A handler either responds before it returns (return KERBERUS_OK), or keeps
 * the request and returns KERBERUS_ASYNC, then calls respond() later from any
 * thread. While a request is kept, every request accessor stays usable, and
 * every view read from the request stays valid until respond() returns.
 *   - Deadline: if respond() has not been called within the configured
 *     `server.request_timeout`, the host answers 504 itself. The handle stays
 *     valid until the plugin calls respond(), which then returns
 *     KERBERUS_ERR_EXPIRED and frees the handle.
 *   - Responding twice: respond() on a handle that was already answered
 *     while the handle is still valid (inside the handler, or after the
 *     host's own 504/503) returns KERBERUS_ERR_STATE / KERBERUS_ERR_EXPIRED,
 *     the first answer stands and the host logs a warning. Once respond()
 *     has returned for a kept request, the handle is gone: like free(),
 *     using it again is undefined behaviour.
 *   - Shutdown and reload: after the plugin's stop callback returns, the host
 *     answers 503 to every request the plugin still keeps and frees those
 *     handles; the plugin must not touch them after stop returns.
 *
 * ------------------------------------------------------------------------
 * Reload (SIGHUP)
 * ------------------------------------------------------------------------
 * When its file or its settings change, a plugin gets a fresh instance: the
 * new one is initialised (its own copy of the library, so its own statics)
 * while the old one still serves; new requests then go to the new one, and
 * the old one is stopped and destroyed once the requests inside it have
 * finished. Two instances of one plugin may therefore run side by side for
 * a while: keep state in the instance, not in globals shared with the
 * outside (files, ports). An unchanged plugin keeps its instance.
 */
#ifndef KERBERUS_PLUGIN_H
#define KERBERUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version this header describes. The host exports the same pair in its
 * kerberus_host_api; a plugin records the pair it was built against in its
 * descriptor. */
#define KERBERUS_ABI_MAJOR 1
#define KERBERUS_ABI_MINOR 6

/* The entry symbol for this major version, as a string and as an identifier. */
#define KERBERUS_PLUGIN_ENTRY_SYMBOL "kerberus_plugin_v1"

#if defined(__GNUC__) || defined(__clang__)
#define KERBERUS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define KERBERUS_PLUGIN_EXPORT
#endif

/* ======================================================================== */
/* Status codes                                                             */
/* ======================================================================== */

/* Every fallible host function returns one of these; so do the lifecycle
 * callbacks and route handlers. Values are fixed forever; new ones are only
 * added. A code is always paired with a message somewhere: in the host's log
 * line, or in the plugin's set_error() text. */
typedef int32_t kerberus_status;

#define KERBERUS_OK 0
/* Handler only: "I kept the request and will call respond() later". */
#define KERBERUS_ASYNC 1
/* An argument is NULL, malformed or out of range. */
#define KERBERUS_ERR_INVALID (-1)
/* The key, header, parameter or route does not exist. */
#define KERBERUS_ERR_NOT_FOUND (-2)
/* The config value exists but has another type (map where a string was
 * asked for, "abc" for an integer, ...). */
#define KERBERUS_ERR_WRONG_TYPE (-3)
/* The route is already registered by this plugin. */
#define KERBERUS_ERR_CONFLICT (-4)
/* Not allowed now: registering routes after init, responding twice, ... */
#define KERBERUS_ERR_STATE (-5)
/* The host already answered this request (deadline 504, shutdown 503). */
#define KERBERUS_ERR_EXPIRED (-6)
/* A size limit was exceeded (response body too large, ...). */
#define KERBERUS_ERR_TOO_LARGE (-7)
/* Failure inside the plugin; a handler returning it gets a 500. */
#define KERBERUS_ERR_INTERNAL (-8)
/* Outbound HTTP (ABI 1.1): the upstream could not be reached (DNS, refused
 * connection, TLS failure, malformed response). */
#define KERBERUS_ERR_UNREACHABLE (-9)
/* Outbound HTTP (ABI 1.1): the connect or total timeout passed. */
#define KERBERUS_ERR_TIMEOUT (-10)
/* Outbound HTTP (ABI 1.1): cancelled by the plugin, or by the host when the
 * plugin stopped. */
#define KERBERUS_ERR_CANCELLED (-11)
/* Streamed responses (ABI 1.4), response_write only: the bytes were taken,
 * but the client is reading slower than they come; write more after the
 * KERBERUS_STREAM_WRITABLE event. Not an error. */
#define KERBERUS_BUSY 2
/* Streamed responses (ABI 1.4): the client's connection is gone; nothing
 * more reaches it. End the response (response_end) and stop producing. */
#define KERBERUS_ERR_CLOSED (-12)

/* ======================================================================== */
/* Basic types                                                              */
/* ======================================================================== */

/* A read-only byte view handed out by the host. Not NUL-terminated. */
typedef struct kerberus_str {
    const char *data;
    size_t len;
} kerberus_str;

/* The host's handle for one initialised plugin instance. Opaque; valid from
 * init until destroy returns. Passed to every host function that acts "as
 * the plugin" (logging, config, routes). */
typedef struct kerberus_plugin_ctx kerberus_plugin_ctx;

/* One HTTP exchange: the request being served and the response being built.
 * Opaque. See "Async responses" above for its lifetime. */
typedef struct kerberus_request kerberus_request;

/* Log levels, in increasing severity. */
#define KERBERUS_LOG_TRACE 0
#define KERBERUS_LOG_DEBUG 1
#define KERBERUS_LOG_INFO 2
#define KERBERUS_LOG_WARN 3
#define KERBERUS_LOG_ERROR 4
#define KERBERUS_LOG_CRITICAL 5

/* A route handler.
 *
 * Thread: any HTTP worker thread, concurrently (see "Threads").
 * `req` is valid until the handler returns, or — if it returns
 * KERBERUS_ASYNC — until respond() returns. `user_data` is what was given to
 * route_add. Return:
 *   KERBERUS_OK     after calling respond();
 *   KERBERUS_ASYNC  to keep the request and respond later from any thread;
 *   any error code  the host answers 500 (if respond() was not called) and
 *                   logs the code with the plugin id.
 * Returning KERBERUS_OK without having responded is a bug: the host answers
 * 500 and logs it. */
typedef kerberus_status (*kerberus_handler_fn)(kerberus_request *req, void *user_data);

/* A visitor for request headers and query parameters. Called once per entry;
 * `name` and `value` are valid only during the call. Return non-zero to stop
 * the iteration early. */
typedef int (*kerberus_visit_fn)(void *user_data, kerberus_str name, kerberus_str value);

/* ======================================================================== */
/* Outbound HTTP (ABI 1.1)                                                  */
/* ======================================================================== */

/* One header line. Not NUL-terminated; names keep the case they were given
 * or received in. */
typedef struct kerberus_header {
    kerberus_str name;
    kerberus_str value;
} kerberus_header;

/* Flags for kerberus_outbound_request.flags. */
/* Skip TLS certificate and host name verification (tests, private CAs you
 * cannot install). Verification is on by default. */
#define KERBERUS_OUTBOUND_INSECURE_TLS 0x1u
/* Streamed request body (ABI 1.5, outbound_stream only): `body` must be
 * NULL and `body_len` is the exact length the body will have (sent as
 * Content-Length), or KERBERUS_BODY_LENGTH_UNKNOWN (sent chunked). The body
 * is given with outbound_body_write and finished with outbound_body_end. */
#define KERBERUS_OUTBOUND_STREAMED_BODY 0x2u
#define KERBERUS_BODY_LENGTH_UNKNOWN ((size_t)-1)
/* An upgrade (ABI 1.5, with KERBERUS_OUTBOUND_STREAMED_BODY, plain http://
 * only; https:// is KERBERUS_ERR_INVALID): the request is sent without a
 * body, with the Connection and Upgrade headers the plugin gives
 * ("Connection: Upgrade", "Upgrade: websocket"). If the upstream answers
 * 101, on_head gets the 101 and its headers, on_body then gets the new
 * protocol's bytes as they come until the upstream closes, and
 * outbound_body_write sends bytes the other way as they are given;
 * outbound_body_end shuts the upstream's receiving side. timeout_ms bounds
 * each wait with no byte either way. Any other answer is an ordinary one
 * (writes then get KERBERUS_ERR_NOT_FOUND once it completed). */
#define KERBERUS_OUTBOUND_UPGRADE 0x4u

/* An outbound request. The host copies everything it needs before
 * outbound_send returns; the plugin keeps ownership of what it points to. */
typedef struct kerberus_outbound_request {
    /* sizeof(kerberus_outbound_request) as the plugin was built. */
    size_t struct_size;
    /* "GET", "POST", ...; NUL-terminated. */
    const char *method;
    /* Absolute http:// or https:// URL; NUL-terminated. */
    const char *url;
    /* Headers sent as given (Host included, if present). The host adds none
     * but Content-Length (from body_len) and, without a Host header, Host. */
    const kerberus_header *headers;
    size_t header_count;
    /* Request body (may be NULL when body_len is 0). */
    const char *body;
    size_t body_len;
    /* 0 means the host's default: 10 s to connect, 30 s in total. */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;
    /* Largest response body accepted; 0 means 64 MiB (outbound_stream, ABI
     * 1.4: 0 means no limit). Larger responses end with
     * KERBERUS_ERR_TOO_LARGE: before any callback when the upstream stated
     * a larger Content-Length, else once the limit is passed. */
    uint64_t max_response_bytes;
    /* KERBERUS_OUTBOUND_* flags. */
    uint32_t flags;
} kerberus_outbound_request;

/* What came back. Valid only during the completion callback; copy what you
 * keep. */
typedef struct kerberus_outbound_response {
    size_t struct_size;
    /* KERBERUS_OK when an HTTP response arrived (any status, 5xx included);
     * otherwise KERBERUS_ERR_UNREACHABLE, _TIMEOUT, _TOO_LARGE, _CANCELLED. */
    kerberus_status result;
    /* The HTTP status; 0 when result is not KERBERUS_OK. */
    int status;
    /* Response headers in the order received; repeated names repeat. */
    const kerberus_header *headers;
    size_t header_count;
    /* The whole response body (de-chunked, not decompressed). */
    kerberus_str body;
    /* When result is not KERBERUS_OK: what went wrong, for logs. Never
     * contains request headers or bodies. NUL-terminated. */
    const char *error;
} kerberus_outbound_response;

/* Completion callback: called exactly once per successful outbound_send,
 * later (never inside outbound_send), on one of the host's threads (for a
 * plain http:// request made in a handler, that handler's worker thread,
 * after the handler returned; otherwise an outbound thread of the host's);
 * callbacks of different requests may run concurrently. It must not block
 * (respond() to a kept request is fine: it does not). `response` is valid
 * during the call. */
typedef void (*kerberus_outbound_done_fn)(void *user_data, const kerberus_outbound_response *response);

/* Streamed outbound responses (ABI 1.4): what outbound_stream calls as the
 * upstream's answer arrives, on the request's outbound thread, one call at
 * a time, in this order: on_head once, on_body zero or more times, then the
 * request's `done` exactly once (as for outbound_send; its response has the
 * status and headers again and an empty body). None of them may block. */
typedef struct kerberus_outbound_stream_fns {
    /* sizeof(kerberus_outbound_stream_fns) as the plugin was built. */
    size_t struct_size;
    /* The final status and headers (1xx answers are skipped); the views are
     * valid during the call. Not called when the request fails before. */
    void (*on_head)(void *user_data, int status, const kerberus_header *headers, size_t header_count);
    /* A piece of the body, de-chunked (valid during the call). Return
     * KERBERUS_OK for more, or KERBERUS_BUSY to pause: no more pieces (and
     * no timeout) until outbound_resume(id). */
    kerberus_status (*on_body)(void *user_data, const char *data, size_t len);
    /* ABI 1.5, for a request with KERBERUS_OUTBOUND_STREAMED_BODY (may be
     * NULL otherwise): after outbound_body_write returned KERBERUS_BUSY,
     * called once what waited has gone to the upstream — write again. On
     * the request's outbound thread; must not block. */
    void (*on_body_writable)(void *user_data);
} kerberus_outbound_stream_fns;

/* Streamed responses (ABI 1.4): what response_start's `on_event` hears. */
#define KERBERUS_STREAM_WRITABLE 1 /* after KERBERUS_BUSY: the client caught up, write again */
#define KERBERUS_STREAM_CLOSED 2   /* the client left: its connection is gone or it closed its side
                                    * (told once; later writes may still succeed until the
                                    * connection is gone, then KERBERUS_ERR_CLOSED) */
/* Called on the connection's worker thread, never inside a host call of
 * the plugin's and never after response_end returned (a call running on the
 * worker when another thread calls response_end finishes first: response_end
 * waits for it). It may call response_write and response_end on `req`, and
 * must return promptly (it holds up the worker's other connections). */
typedef void (*kerberus_stream_event_fn)(void *user_data, kerberus_request *req, int event);

/* Streamed request bodies (ABI 1.5): what request_body_stream delivers.
 * Both run on the connection's worker thread, one call at a time, never
 * inside a host call of the plugin's, and never after the request was
 * answered (respond, respond_error or response_end returned; a call running
 * then finishes first: the answer waits for it). */
typedef struct kerberus_body_fns {
    /* sizeof(kerberus_body_fns) as the plugin was built. */
    size_t struct_size;
    /* A piece of the body, de-chunked; valid during the call. Return
     * KERBERUS_OK for more, or KERBERUS_BUSY to pause: the host stops
     * reading from the client (its sending stalls in TCP) and no body
     * timeout runs until request_body_resume. Must return promptly. */
    kerberus_status (*on_data)(void *user_data, const char *data, size_t len);
    /* The body is over, called once: KERBERUS_OK when it arrived whole;
     * KERBERUS_ERR_CLOSED when the client left or closed its side before its
     * end; KERBERUS_ERR_INVALID when its chunked framing was malformed;
     * KERBERUS_ERR_TIMEOUT when nothing of it arrived for
     * server.body_timeout (default 60 s) while not paused. After an error the client may
     * be gone: answer anyway (the host drops what cannot be sent). */
    void (*on_end)(void *user_data, kerberus_status result);
} kerberus_body_fns;

/* Route flags (ABI 1.5), for route_set_flags. */
/* The route takes its request body streamed (request_body_stream) instead
 * of whole: the handler runs as soon as the head has arrived, whatever the
 * body's size; server.max_request_body does not apply. */
#define KERBERUS_ROUTE_STREAMED_BODY 0x1u
/* The route answers callers without credentials (ABI 1.6): Backstage's
 * httpRouter.addAuthPolicy({ path, allow: 'unauthenticated' }). Without it
 * a route needs `Authorization: Bearer <token>` with a token the operator
 * configured (auth.externalAccess); others get 401 from the host and the
 * handler never runs. The operator has the last word: plugins.<id>.auth
 * can open or close any route, and auth.dangerouslyDisableDefaultAuthPolicy
 * opens every route not closed there. On a public route request_caller
 * still names a caller whose credentials verified. A host before 1.6
 * refuses the bit with KERBERUS_ERR_INVALID. Mark health checks, webhooks
 * with their own signatures and public assets; nothing else. */
#define KERBERUS_ROUTE_PUBLIC 0x2u

/* ======================================================================== */
/* Metrics (ABI 1.3)                                                        */
/* ======================================================================== */

/* A plugin's metrics are served with the daemon's own on the admin
 * listener's /metrics, in Prometheus' text format. Every name a plugin
 * creates is exposed as kerberus_plugin_<id>_<name> (dashes in the id become
 * underscores) with a `plugin="<id>"` label added, so no plugin can write
 * another's series or the host's. Families and series are never freed: a
 * handle stays valid (and its values keep counting across reloads of the
 * plugin) for as long as the daemon runs. */

/* A metric family: one name, type, help text and set of label names. */
typedef struct kerberus_metric_family kerberus_metric_family;
/* One series of a family: the family plus one value per label name. */
typedef struct kerberus_metric kerberus_metric;

/* Metric types (Prometheus' semantics). */
/* Only goes up (restarts count as resets); its name must end in _total. */
#define KERBERUS_METRIC_COUNTER 1
/* Goes up and down. */
#define KERBERUS_METRIC_GAUGE 2
/* Observations counted into buckets, plus their sum and count. */
#define KERBERUS_METRIC_HISTOGRAM 3

typedef struct kerberus_metric_spec {
    /* sizeof(kerberus_metric_spec) as the plugin was built. */
    size_t struct_size;
    /* KERBERUS_METRIC_COUNTER, _GAUGE or _HISTOGRAM. */
    int32_t type;
    /* [a-z_][a-z0-9_]*, at most 100 characters, not starting with "__";
     * the unit in the name as Prometheus names it (_seconds, _bytes), and
     * _total for a counter. NUL-terminated. */
    const char *name;
    /* One line of help text (no control characters). NUL-terminated. */
    const char *help;
    /* Label names, [a-zA-Z_][a-zA-Z0-9_]*, not "plugin", "le" or starting
     * with "__"; at most 8. May be NULL when label_count is 0. */
    const char *const *label_names;
    size_t label_count;
    /* Histograms only: upper bounds of the buckets, strictly increasing,
     * finite, at most 32 (+Inf is added). NULL / 0 for the default ones:
     * .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds). */
    const double *buckets;
    size_t bucket_count;
} kerberus_metric_spec;

/* ======================================================================== */
/* The host function table                                                  */
/* ======================================================================== */

/* Handed to init; the pointer (and every function in it) stays valid until
 * destroy returns. Fields are append-only: see KERBERUS_HOST_HAS. */
typedef struct kerberus_host_api {
    /* sizeof(kerberus_host_api) as the host was built. First field forever. */
    size_t struct_size;
    /* The host's ABI version (KERBERUS_ABI_MAJOR/MINOR of the host). */
    uint32_t abi_major;
    uint32_t abi_minor;
    /* The daemon's version, e.g. "0.1.0". NUL-terminated, static. */
    const char *host_version;

    /* ---- Errors ------------------------------------------------------- */

    /* Records why the current lifecycle callback (init, health) failed. The
     * host puts the text in its log line, in `kerberusd --check` (init) and
     * in readiness, the inventory and the dashboard (health). Call it before
     * returning an error from init or health. The text is copied; a later
     * call replaces an earlier one. Thread: the thread running the callback. */
    void (*set_error)(kerberus_plugin_ctx *ctx, const char *msg, size_t len);

    /* ---- Logging ------------------------------------------------------ */

    /* Writes one log line tagged with the plugin id. `msg` need not be
     * NUL-terminated and must not end with a newline. Lines below the
     * plugin's configured level are dropped cheaply; test log_enabled first
     * when building the message is costly. Thread: any. */
    void (*log)(kerberus_plugin_ctx *ctx, int level, const char *msg, size_t len);

    /* Non-zero if a line at `level` would be written. Thread: any. */
    int (*log_enabled)(kerberus_plugin_ctx *ctx, int level);

    /* ---- Configuration (the plugin's own namespace only) ---------------- */

    /* A plugin sees only `plugins.<id>.config` of the merged configuration;
     * keys are dotted paths inside it ("upstream.timeout"); a numeric path
     * element indexes a list ("servers.0.host"). Values are the result of
     * `${VAR}` / `$file` substitution. There is no way to name another
     * plugin's namespace: keys are always relative to this one.
     *
     * Every getter returns KERBERUS_OK and fills `out`, KERBERUS_ERR_NOT_FOUND
     * if the key is absent (out untouched: pre-fill your default), or
     * KERBERUS_ERR_WRONG_TYPE. Strings stay valid until destroy returns.
     * Thread: any. */
    kerberus_status (*config_get_string)(kerberus_plugin_ctx *ctx, const char *key, kerberus_str *out);
    kerberus_status (*config_get_int)(kerberus_plugin_ctx *ctx, const char *key, int64_t *out);
    kerberus_status (*config_get_double)(kerberus_plugin_ctx *ctx, const char *key, double *out);
    /* Accepts true/false (also yes/no, on/off). Writes 1 or 0. */
    kerberus_status (*config_get_bool)(kerberus_plugin_ctx *ctx, const char *key, int *out);

    /* The whole namespace as one JSON document ("{}" when the plugin has no
     * settings). Scalars that were quoted in YAML are JSON strings; plain
     * scalars become numbers, booleans or null where they read as such.
     * Valid until destroy returns. Thread: any. */
    kerberus_status (*config_json)(kerberus_plugin_ctx *ctx, kerberus_str *out);

    /* ---- Routes ------------------------------------------------------- */

    /* Registers a handler for `method` ("GET", "POST", ..., or "*" for any
     * method) and `pattern`, relative to the plugin's prefix /api/<id>:
     *   "/"              the prefix itself (/api/<id>/ and /api/<id>)
     *   "/items/:id"     `:name` matches one non-empty path segment
     *   "/files/" "*"    a last segment "*" matches the rest of the path
     *                    (possibly empty); read it with request_param(req, "*").
     *                    (Written apart here: a C comment cannot hold the
     *                    pattern's slash-star.)
     * A literal segment beats a parameter, which beats `*`. HEAD falls back
     * to a GET route. Registering the same method + pattern twice returns
     * KERBERUS_ERR_CONFLICT; a malformed pattern KERBERUS_ERR_INVALID.
     * Allowed only during init (KERBERUS_ERR_STATE otherwise).
     * Thread: the init thread. */
    kerberus_status (*route_add)(kerberus_plugin_ctx *ctx, const char *method, const char *pattern,
                                 kerberus_handler_fn handler, void *user_data);

    /* ---- Reading the request ------------------------------------------ *
     * Valid on `req` while it is valid; the views stay valid as long as the
     * request. A request may be read from one thread at a time. */

    /* "GET", "POST", ... */
    kerberus_status (*request_method)(kerberus_request *req, kerberus_str *out);
    /* The path below the plugin's prefix, percent-decoded and normalised,
     * always starting with '/': "/world" for GET /api/hello/world.
     * Exception: a path holding an encoded slash or backslash (%2F, %5C,
     * data inside a segment, RFC 3986 2.2) keeps those and '%' itself
     * encoded, uppercase: "/projects/team%2Fservice" for
     * "/api/x/projects/team%2fservice", "/a%25b%2Fc" for "/api/x/a%25b%2Fc",
     * so it splits on '/' as the client meant. (Host 0.2 and later; with
     * server.encoded_slashes: refuse such requests get 400 instead.)
     * Without an encoded slash "%25" is decoded as usual, so "/a%2Fb" here
     * may come from either "/a%252Fb" or "/a%2Fb": to tell them apart, or to
     * decode a piece, use request_param (decoded exactly once) or
     * request_raw_path. */
    kerberus_status (*request_path)(kerberus_request *req, kerberus_str *out);
    /* The full path as the client sent it (still percent-encoded), without
     * the query: "/api/hello/w%20x". */
    kerberus_status (*request_raw_path)(kerberus_request *req, kerberus_str *out);
    /* A route parameter (":name" without the colon, or "*"), decoded,
     * also where request_path keeps escapes: ":project" is "team/service"
     * for ".../projects/team%2Fservice". */
    kerberus_status (*request_param)(kerberus_request *req, const char *name, kerberus_str *out);
    /* The query string without '?', as received ("" when none). */
    kerberus_status (*request_query)(kerberus_request *req, kerberus_str *out);
    /* The first value of one query parameter, percent-decoded ("+" is a
     * space). KERBERUS_ERR_NOT_FOUND when absent. */
    kerberus_status (*request_query_param)(kerberus_request *req, const char *name, kerberus_str *out);
    /* Calls `visit` for each query parameter (decoded), in request order. */
    kerberus_status (*request_query_visit)(kerberus_request *req, kerberus_visit_fn visit, void *user_data);
    /* One request header by name, case-insensitive (the first one when the
     * name repeats). */
    kerberus_status (*request_header)(kerberus_request *req, const char *name, kerberus_str *out);
    /* Calls `visit` for each request header, in the order received;
     * repeated names repeat. */
    kerberus_status (*request_header_visit)(kerberus_request *req, kerberus_visit_fn visit, void *user_data);
    /* The complete request body (possibly empty; chunked bodies arrive
     * de-chunked). KERBERUS_ERR_STATE on a route that streams its body
     * (ABI 1.5, KERBERUS_ROUTE_STREAMED_BODY). */
    kerberus_status (*request_body)(kerberus_request *req, kerberus_str *out);
    /* The client's address as text ("127.0.0.1"). */
    kerberus_status (*request_remote_address)(kerberus_request *req, kerberus_str *out);

    /* ---- Writing the response ----------------------------------------- */

    /* Adds a response header (several calls with one name send several
     * lines). Connection and Transfer-Encoding are the host's to set:
     * KERBERUS_ERR_INVALID. Names and values with CR or LF are refused with
     * KERBERUS_ERR_INVALID. Call before respond().
     * Content-Length (kerberusd 0.2; earlier hosts refuse it): a decimal
     * length (a second call replaces the first) that the host writes in
     * place of its own where no body
     * is sent — the length a GET would have answered to a HEAD request, or
     * a 200 to the request a 304 answers (RFC 9110 8.6); anything else is
     * KERBERUS_ERR_INVALID. With a body, respond() refuses a stated length
     * that is not the body's. */
    kerberus_status (*response_header_add)(kerberus_request *req, const char *name, const char *value,
                                           size_t value_len);

    /* Sends the response: status 200..599, the headers added so far and
     * `body` (copied; at most 64 MiB). Without a Content-Type header, a
     * non-empty body is sent as "text/plain; charset=utf-8". The host frames
     * the answer as RFC 9110 says: a HEAD request gets the headers and the
     * Content-Length without the body; 204, 205 and 304 answers never carry
     * content (a body given with them is not sent) and 204 and 304 no
     * Content-Length (304: unless one was stated, see response_header_add).
     * Thread: any — also another thread while the handler is still running
     * (the handler then returns KERBERUS_ASYNC or KERBERUS_OK, either works).
     * Returns:
     *   KERBERUS_OK           sent;
     *   KERBERUS_ERR_INVALID  status out of range, or a stated Content-Length
     *                         that is not the body's — nothing sent, the
     *                         request is still yours: respond again;
     *   KERBERUS_ERR_TOO_LARGE body over the limit — likewise;
     *   KERBERUS_ERR_STATE    the plugin already answered this request;
     *   KERBERUS_ERR_EXPIRED  the host already answered it (deadline 504,
     *                         shutdown 503).
     * For a kept (KERBERUS_ASYNC) request, a return of OK, ERR_STATE or
     * ERR_EXPIRED ends the handle's life. */
    kerberus_status (*respond)(kerberus_request *req, int status, const char *body, size_t body_len);

    /* ---- Outbound HTTP (ABI 1.1) ---------------------------------------- *
     * One client for the whole daemon: connections are pooled per host
     * (keep-alive; at most outbound.max_connections_per_host per upstream,
     * idle ones kept per worker thread), host names are resolved on threads
     * of the resolver's own, and no thread ever waits for an upstream. Check KERBERUS_HOST_HAS(host, outbound_send) first. */

    /* Starts a request. Returns KERBERUS_OK and stores an id in *id (may be
     * NULL) — `done` is then called exactly once, later, on one of the
     * host's outbound threads (never inside this call); or returns an error (KERBERUS_ERR_INVALID: bad method, URL or
     * struct; KERBERUS_ERR_STATE: called before init or after stop) and
     * `done` is never called. When the plugin is about to stop, the host
     * refuses new requests (KERBERUS_ERR_STATE), cancels what the plugin
     * still has in flight and waits for each `done` (with
     * KERBERUS_ERR_CANCELLED) to return, then calls stop. Thread: any. */
    kerberus_status (*outbound_send)(kerberus_plugin_ctx *ctx, const kerberus_outbound_request *request,
                                     kerberus_outbound_done_fn done, void *user_data, uint64_t *id);

    /* Cancels a request in flight: its `done` is called with
     * KERBERUS_ERR_CANCELLED (later, on one of the outbound threads). Returns
     * KERBERUS_ERR_NOT_FOUND when the request already completed (its `done`
     * ran or is running). Thread: any. */
    kerberus_status (*outbound_cancel)(kerberus_plugin_ctx *ctx, uint64_t id);

    /* ---- Error answers (ABI 1.2) -------------------------------------- */

    /* Answers with the daemon's own JSON error body, the one it uses for its
     * 404s and 503s (Backstage's ErrorResponseBody shape):
     *   {"error":{"name":"NotFoundError","message":"..."},
     *    "request":{"method":"GET","url":"/api/x/y"},"response":{"statusCode":404}}
     * `status` must be 400..599. Headers added so far are sent too; the
     * Content-Type is application/json. Otherwise exactly like respond():
     * same thread rules, same return codes, same end of a kept handle.
     * Check KERBERUS_HOST_HAS(host, respond_error) first. */
    kerberus_status (*respond_error)(kerberus_request *req, int status, const char *message, size_t message_len);

    /* ---- Describing routes (ABI 1.3) ------------------------------------ */

    /* Gives a route this plugin registered (same method and pattern as in
     * route_add) a one-line summary: "Greets :name". It shows in the plugin
     * inventory, in the OpenAPI document of every plugin's routes and on the
     * dashboard. `summary` is copied; at most 200 bytes, no control
     * characters (KERBERUS_ERR_INVALID). KERBERUS_ERR_NOT_FOUND when the
     * route was not registered. Allowed only during init (KERBERUS_ERR_STATE
     * otherwise). Thread: the init thread. */
    kerberus_status (*route_describe)(kerberus_plugin_ctx *ctx, const char *method, const char *pattern,
                                      const char *summary, size_t summary_len);

    /* ---- Request id (ABI 1.3) ------------------------------------------- */

    /* The request's id: the client's X-Request-Id when it sent a well-formed
     * one (1 to 200 characters of A-Z a-z 0-9 and -._~:/+=@), otherwise one
     * the daemon made (32 hex digits). The answer carries it back in
     * X-Request-Id and the access log records it; send it on to upstreams to
     * follow one request across services (the proxy plugin does). Valid as
     * long as the request. Thread: as the other request accessors. */
    kerberus_status (*request_id)(kerberus_request *req, kerberus_str *out);

    /* ---- Metrics (ABI 1.3) ------------------------------------------------ */

    /* Creates a metric family (see "Metrics" above). Returns KERBERUS_OK and
     * the family in *out; KERBERUS_ERR_INVALID for a malformed spec (the
     * host logs which rule it broke); KERBERUS_ERR_CONFLICT when the exposed
     * name is taken with another type, help, labels or buckets (by an
     * earlier instance of this plugin, the same spec gives back the same
     * family and its values). Allowed only during init (KERBERUS_ERR_STATE).
     * Thread: the init thread. */
    kerberus_status (*metric_family)(kerberus_plugin_ctx *ctx, const kerberus_metric_spec *spec,
                                     kerberus_metric_family **out);

    /* The series of `family` with these label values (one per label name,
     * in order; copied), created on first use. KERBERUS_ERR_INVALID when the
     * count differs from the family's label count; KERBERUS_ERR_TOO_LARGE
     * past 1000 series in one family (label values must come from a small
     * set: never put ids or paths in them). Takes a lock: look series up
     * once and keep the handle. Thread: any. */
    kerberus_status (*metric_series)(kerberus_metric_family *family, const kerberus_str *label_values,
                                     size_t label_count, kerberus_metric **out);

    /* Record a value. Lock-free; cheap enough for every request.
     * metric_add: counters (value >= 0) and gauges; metric_set: gauges;
     * metric_observe: histograms. KERBERUS_ERR_INVALID for another type, a
     * NaN, or a negative counter increment (nothing is recorded).
     * Thread: any. */
    kerberus_status (*metric_add)(kerberus_metric *metric, double value);
    kerberus_status (*metric_set)(kerberus_metric *metric, double value);
    kerberus_status (*metric_observe)(kerberus_metric *metric, double value);

    /* ---- Streamed responses (ABI 1.4) ------------------------------------ *
     * A response sent as it is produced: a download larger than memory, a
     * relayed upstream body, Server-Sent Events. response_start sends the
     * status line and headers, response_write the content piece by piece,
     * response_end finishes it. Instead of respond(), never as well.
     * Rules that apply to all three:
     *   - Thread: any, one call at a time per request (as the accessors),
     *     also while the handler runs. A handler that returns before
     *     response_end returns KERBERUS_ASYNC (KERBERUS_OK without an ended
     *     stream is a failed handler: the connection is closed, cut short).
     *   - Once response_start succeeded, server.request_timeout no longer
     *     applies: a stream lasts until response_end, the client leaving, or
     *     the plugin's stop (the host then cuts the stream off: the client
     *     sees it incomplete). The request handle is valid until
     *     response_end returns, whatever it returns.
     *   - Check KERBERUS_HOST_HAS(host, response_abort) first. */

    /* Sends the status line and the headers added so far (see
     * response_header_add; no Content-Type is added, a streamed body has
     * whatever type the plugin states or none). `content_length`: the exact
     * number of bytes the writes will give, or -1 when unknown — then the
     * body goes chunked (RFC 9112 7.1) to HTTP/1.1 clients and ends with the
     * connection for HTTP/1.0 ones (a Content-Length added with
     * response_header_add counts as given). A HEAD request gets the headers only
     * (with content_length, if given, as its Content-Length); 204 and 304
     * carry no content and 205 none either ("Content-Length: 0").
     * `on_event` (may be NULL) with `user_data` hears
     * KERBERUS_STREAM_WRITABLE and KERBERUS_STREAM_CLOSED (see
     * kerberus_stream_event_fn).
     * Status 101 (ABI 1.5) takes up an upgrade the client asked for
     * (Connection: upgrade and an Upgrade header, HTTP/1.1, on a route with
     * KERBERUS_ROUTE_STREAMED_BODY): the head goes at once with
     * "Connection: Upgrade" (add Upgrade and the protocol's own headers
     * first), writes go to the client as they are, unframed, and
     * request_body_stream delivers the client's bytes the same way; the
     * connection closes when the stream ends. Once a stream ends, nothing
     * more of it is HTTP.
     * Returns KERBERUS_OK; KERBERUS_ERR_INVALID for a status outside
     * 200..599 (but an upgrade's 101) or content_length < -1 (nothing sent,
     * the request is still yours); KERBERUS_ERR_STATE when already answered or started;
     * KERBERUS_ERR_EXPIRED when the host answered it (deadline 504, stop). */
    kerberus_status (*response_start)(kerberus_request *req, int status, int64_t content_length,
                                      kerberus_stream_event_fn on_event, void *user_data);

    /* Sends `len` bytes of content (copied before the call returns). For a
     * HEAD request they are accepted and dropped; for 204, 205 and 304 only
     * len 0 is (KERBERUS_ERR_INVALID otherwise).
     * Returns KERBERUS_OK; KERBERUS_BUSY: taken, but more than 256 KiB wait
     * for the client — wait for KERBERUS_STREAM_WRITABLE before the next
     * write; KERBERUS_ERR_TOO_LARGE: 8 MiB already wait (a plugin that
     * ignored KERBERUS_BUSY), nothing taken; KERBERUS_ERR_INVALID: more than
     * the content_length given, nothing taken; KERBERUS_ERR_CLOSED: the
     * client is gone; KERBERUS_ERR_STATE: not started or already ended. */
    kerberus_status (*response_write)(kerberus_request *req, const char *data, size_t len);

    /* Finishes the response: the last chunk, or nothing more for a
     * Content-Length body. If fewer bytes were written than content_length
     * said, the connection is closed instead (the client sees the answer
     * cut short) and KERBERUS_ERR_INVALID is returned. KERBERUS_ERR_STATE
     * when not started. After this call (whatever it returns) the handle is
     * gone and no event callback runs any more. */
    kerberus_status (*response_end)(kerberus_request *req);

    /* Cuts a started response off: the connection closes without the rest
     * of the content (and without the last chunk), so the client sees the
     * answer incomplete — for when the source of the content failed midway
     * (an upstream that broke off). Returns KERBERUS_OK, or
     * KERBERUS_ERR_STATE when not started. The handle is gone afterwards,
     * as after response_end. */
    kerberus_status (*response_abort)(kerberus_request *req);

    /* ---- Streamed outbound responses (ABI 1.4) --------------------------- */

    /* outbound_send, with the answer delivered as it arrives (see
     * kerberus_outbound_stream_fns; `fns` is copied) instead of whole, so
     * its size is not bounded by memory: max_response_bytes 0 means no
     * limit here. timeout_ms bounds the wait for the head, then each wait
     * for the next piece while not paused. A failure after the head (the
     * upstream broke off, a timeout) reaches `done` with its error. Same
     * threads, ids, cancel and stop rules as outbound_send. Check
     * KERBERUS_HOST_HAS(host, outbound_resume) first. */
    kerberus_status (*outbound_stream)(kerberus_plugin_ctx *ctx, const kerberus_outbound_request *request,
                                       const kerberus_outbound_stream_fns *fns, kerberus_outbound_done_fn done,
                                       void *user_data, uint64_t *id);

    /* Resumes a stream paused by on_body's KERBERUS_BUSY (later, on its
     * outbound thread; resuming one not paused does nothing). Returns
     * KERBERUS_ERR_NOT_FOUND when the request already completed. Thread:
     * any, also inside a response's event callback. */
    kerberus_status (*outbound_resume)(kerberus_plugin_ctx *ctx, uint64_t id);

    /* ---- Streamed request bodies (ABI 1.5) ------------------------------- *
     * For uploads larger than memory and for relaying a body as it arrives.
     * A route opts in with route_set_flags(KERBERUS_ROUTE_STREAMED_BODY);
     * its handler then reads the body with request_body_stream, and
     * request_body returns KERBERUS_ERR_STATE. A request without a body
     * (no Content-Length and no Transfer-Encoding, or Content-Length: 0)
     * has an empty one: on_end(KERBERUS_OK) with no data — except an
     * upgrade request answered 101 (see response_start), whose "body" is
     * the client's bytes of the new protocol until it closes (on_end
     * KERBERUS_OK), with no body timeout. Answering before
     * the body's end is allowed (a 413, a 401, an upstream's early answer):
     * no more body callbacks come, the rest of the body is not read and
     * the connection closes after the answer. server.request_timeout counts
     * from the body's end (or the answer's start), not while it arrives.
     * Check KERBERUS_HOST_HAS(host, request_body_resume) first. */

    /* Sets flags (KERBERUS_ROUTE_*) on a route this plugin registered (same
     * method and pattern as in route_add); a later call replaces the flags.
     * KERBERUS_ERR_NOT_FOUND when the route was not registered;
     * KERBERUS_ERR_INVALID for a bit this host does not know (a 1.5 host
     * knows only KERBERUS_ROUTE_STREAMED_BODY). Allowed only during init
     * (KERBERUS_ERR_STATE otherwise). Thread: the init thread. */
    kerberus_status (*route_set_flags)(kerberus_plugin_ctx *ctx, const char *method, const char *pattern,
                                       uint32_t flags);

    /* Starts delivering the body to `fns` (copied) with `user_data`: what
     * has arrived at once (on the worker, soon after this call returns),
     * the rest as it comes. Until this is called, the host reads nothing
     * of the body; a client that sent "Expect: 100-continue" gets its
     * "100 Continue" now. Once per request. Thread: any, as the request's
     * accessors. Returns KERBERUS_OK; KERBERUS_ERR_CLOSED when the client
     * has gone already (no callback runs: answer, the host drops it);
     * KERBERUS_ERR_STATE when the route
     * does not stream its body, the body is already being delivered, or the
     * request was answered; KERBERUS_ERR_INVALID for a NULL or short `fns`. */
    kerberus_status (*request_body_stream)(kerberus_request *req, const kerberus_body_fns *fns, void *user_data);

    /* Resumes delivery paused by on_data's KERBERUS_BUSY (later, on the
     * worker; resuming one not paused does nothing). KERBERUS_ERR_STATE when
     * the body is not being delivered. Thread: any, also inside an outbound
     * callback. */
    kerberus_status (*request_body_resume)(kerberus_request *req);

    /* For an outbound_stream request made with KERBERUS_OUTBOUND_STREAMED_BODY:
     * sends `len` more bytes of its body (copied before the call returns).
     * Returns KERBERUS_OK; KERBERUS_BUSY: taken, but more than 256 KiB wait
     * for the upstream — write again after on_body_writable;
     * KERBERUS_ERR_INVALID: past the body_len given, or after
     * outbound_body_end (nothing taken); KERBERUS_ERR_NOT_FOUND: the request
     * completed already (its `done` ran or runs: an upstream may answer
     * before it read the whole body), or was not made with the flag.
     * Thread: any. */
    kerberus_status (*outbound_body_write)(kerberus_plugin_ctx *ctx, uint64_t id, const char *data, size_t len);

    /* Ends the body: the last chunk, or nothing more for a stated length.
     * A body shorter than the body_len given fails the request (its `done`
     * gets KERBERUS_ERR_INVALID). KERBERUS_ERR_NOT_FOUND as for
     * outbound_body_write. Thread: any. */
    kerberus_status (*outbound_body_end)(kerberus_plugin_ctx *ctx, uint64_t id);

    /* ---- Callers (ABI 1.6) ---------------------------------------------- */

    /* Who called: `subject` gets the caller's name and `token_type` how it
     * proved it: "static" or "legacy" (the auth.externalAccess entry's
     * options.subject) or "jwks" (the token's `sub` claim, after the entry's
     * options.subjectPrefix). Both valid as long as the request. Returns
     * KERBERUS_OK; KERBERUS_ERR_NOT_FOUND when the request carried no
     * credentials that verified — only possible on a public route (see
     * KERBERUS_ROUTE_PUBLIC) or with the default policy disabled — and then
     * sets both empty; KERBERUS_ERR_INVALID for NULL arguments. Use it to
     * decide what a caller may do beyond reaching the route. Thread: as the
     * other request accessors. */
    kerberus_status (*request_caller)(kerberus_request *req, kerberus_str *subject, kerberus_str *token_type);

    /* Appended fields go below this line; raise KERBERUS_ABI_MINOR with each. */
} kerberus_host_api;

/* True if the host's table has `field` — i.e. the host is new enough to
 * provide that function. Use it before calling anything added after the
 * minor version you require. */
#define KERBERUS_HOST_HAS(host, field) \
    ((host) != NULL && offsetof(kerberus_host_api, field) + sizeof(((kerberus_host_api *)0)->field) <= (host)->struct_size)

/* ======================================================================== */
/* The plugin descriptor                                                    */
/* ======================================================================== */

typedef struct kerberus_plugin_descriptor {
    /* sizeof(kerberus_plugin_descriptor) as the plugin was built. */
    size_t struct_size;
    /* The ABI the plugin was built against: KERBERUS_ABI_MAJOR/MINOR. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /* The plugin id: [a-z0-9][a-z0-9-]*, at most 64 characters. It is the
     * route prefix (/api/<id>/) and the config namespace (plugins.<id>). */
    const char *id;
    /* Semantic version "MAJOR.MINOR.PATCH" (a "-prerelease" suffix is allowed).
     * Used to choose between several files providing the same id. */
    const char *version;
    /* One line for humans (`kerberusd --check`, logs). May be NULL. */
    const char *description;

    /* Initialises one instance. Register routes, read config, start the
     * plugin's own threads here. Store `host` and `ctx` for later use; store
     * per-instance state in *instance (passed back to stop/destroy/health).
     * Return KERBERUS_OK, or an error code after calling host->set_error():
     * the plugin is then marked failed, its routes answer 503, destroy is
     * still called, and the other plugins carry on.
     * Thread: main. Required. */
    kerberus_status (*init)(const kerberus_host_api *host, kerberus_plugin_ctx *ctx, void **instance);

    /* No new requests will reach this instance. Finish or abandon the
     * requests you keep (see "Async responses"), stop and join your threads.
     * Thread: main. Optional (NULL). */
    void (*stop)(void *instance);

    /* Frees everything the instance owns. Called once after stop (also after
     * a failed init); after it returns the host may unload the file.
     * Thread: main. Optional (NULL). */
    void (*destroy)(void *instance);

    /* Optional (NULL means "always healthy"). Returns KERBERUS_OK when the
     * instance can serve; otherwise an error code, after host->set_error()
     * with the reason (the message is kept until the next call). The host
     * calls it every `health.interval` (default 10 s) while the instance
     * runs, starting right after init, on a thread of its own (never a
     * worker's). A call that has not returned within `health.timeout`
     * (default 2 s) counts as unhealthy until it returns; the host waits for
     * a running call to return before stop. The result shows in readiness
     * (an unhealthy `required` plugin makes the daemon not ready), in the
     * inventory, on the dashboard and as kerberus_plugin_healthy; changes
     * are logged once. Must be quick and must not block.
     * Thread: the host's health thread; may run concurrently with handlers.
     * (Called since kerberusd 0.2, whatever the plugin's ABI minor.) */
    kerberus_status (*health)(void *instance);

    /* ---- ABI 1.3 ------------------------------------------------------ */

    /* Optional (NULL: none). A JSON Schema (draft-04, as RapidJSON's
     * validator reads it; draft-06+ keywords such as const, contains or
     * propertyNames are ignored) for this plugin's settings, the JSON that
     * config_json() returns. The host checks the settings against it before
     * init, at `kerberusd --check` and on every reload; settings that fail
     * are a configuration error naming the file, line, column and key path
     * (startup exits 78, a reload keeps the running instance), so init never
     * sees them. `default` values of object properties fill in what the
     * settings leave out before the plugin reads them. A property with
     * "visibility": "secret" (Backstage's @visibility secret) is shown as
     * "[redacted]" wherever settings are shown, whatever wrote it. The
     * schema shows in the inventory. A schema that is not a JSON object
     * makes the host refuse the plugin file. Static storage; NUL-terminated. */
    const char *config_schema;
} kerberus_plugin_descriptor;

/* The type of the entry function. */
typedef const kerberus_plugin_descriptor *(*kerberus_plugin_entry_fn)(void);

/* The entry function every plugin defines (see KERBERUS_PLUGIN_ENTRY). */
KERBERUS_PLUGIN_EXPORT const kerberus_plugin_descriptor *kerberus_plugin_v1(void);

/* Declares the entry function with the right linkage and visibility:
 *
 *     KERBERUS_PLUGIN_ENTRY { return &my_descriptor; }
 */
#ifdef __cplusplus
#define KERBERUS_PLUGIN_ENTRY \
    extern "C" KERBERUS_PLUGIN_EXPORT const kerberus_plugin_descriptor *kerberus_plugin_v1(void)
#else
#define KERBERUS_PLUGIN_ENTRY KERBERUS_PLUGIN_EXPORT const kerberus_plugin_descriptor *kerberus_plugin_v1(void)
#endif

/* Fills the descriptor's ABI fields with the version of this header. */
#define KERBERUS_DESCRIPTOR_HEADER \
    sizeof(kerberus_plugin_descriptor), KERBERUS_ABI_MAJOR, KERBERUS_ABI_MINOR

#ifdef __cplusplus
}
#endif

#endif /* KERBERUS_PLUGIN_H */
