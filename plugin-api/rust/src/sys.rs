//! The C ABI of `kerberus/plugin.h`, declared for Rust and nothing more.
//!
//! Every type, field and constant of the header, under its C name and in
//! the header's order, so plugin.h's comments read as this module's
//! documentation; `tests/abi_layout.rs` compiles the header and fails when
//! a size, an offset or a value here drifts from it. The rest of the crate
//! is built on this module; a plugin only needs it for a host function the
//! safe layer does not wrap (see [`Host::raw_api`](crate::Host::raw_api)).
//!
//! Function pointers are `Option<unsafe extern "C" fn ...>`: C's NULL is
//! `None`, and calling into the host is `unsafe` because every pointer
//! argument must be valid for as long as plugin.h says.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

/// The ABI major version this module describes; the entry symbol carries it.
pub const KERBERUS_ABI_MAJOR: u32 = 1;
/// The ABI minor version this module describes. A plugin built with this
/// crate records it in its descriptor and loads only into a host at least
/// this new.
pub const KERBERUS_ABI_MINOR: u32 = 6;

/// The entry symbol for this major version.
pub const KERBERUS_PLUGIN_ENTRY_SYMBOL: &str = "kerberus_plugin_v1";

/// A status code: what every fallible host function, lifecycle callback and
/// route handler returns. Values are fixed forever; new ones are only added.
pub type kerberus_status = i32;

/// Success.
pub const KERBERUS_OK: kerberus_status = 0;
/// Handler only: "I kept the request and will call respond() later".
pub const KERBERUS_ASYNC: kerberus_status = 1;
/// An argument is NULL, malformed or out of range.
pub const KERBERUS_ERR_INVALID: kerberus_status = -1;
/// The key, header, parameter or route does not exist.
pub const KERBERUS_ERR_NOT_FOUND: kerberus_status = -2;
/// The config value exists but has another type.
pub const KERBERUS_ERR_WRONG_TYPE: kerberus_status = -3;
/// The route is already registered by this plugin.
pub const KERBERUS_ERR_CONFLICT: kerberus_status = -4;
/// Not allowed now: registering routes after init, responding twice, ...
pub const KERBERUS_ERR_STATE: kerberus_status = -5;
/// The host already answered this request (deadline 504, shutdown 503).
pub const KERBERUS_ERR_EXPIRED: kerberus_status = -6;
/// A size limit was exceeded (response body too large, ...).
pub const KERBERUS_ERR_TOO_LARGE: kerberus_status = -7;
/// Failure inside the plugin; a handler returning it gets a 500.
pub const KERBERUS_ERR_INTERNAL: kerberus_status = -8;
/// Outbound HTTP (ABI 1.1): the upstream could not be reached.
pub const KERBERUS_ERR_UNREACHABLE: kerberus_status = -9;
/// Outbound HTTP (ABI 1.1): the connect or total timeout passed.
pub const KERBERUS_ERR_TIMEOUT: kerberus_status = -10;
/// Outbound HTTP (ABI 1.1): cancelled by the plugin, or by the host when the
/// plugin stopped.
pub const KERBERUS_ERR_CANCELLED: kerberus_status = -11;
/// Streamed responses (ABI 1.4), `response_write` only: the bytes were
/// taken, but the client is slow; write more after
/// `KERBERUS_STREAM_WRITABLE`. Not an error.
pub const KERBERUS_BUSY: kerberus_status = 2;
/// Streamed responses (ABI 1.4): the client's connection is gone.
pub const KERBERUS_ERR_CLOSED: kerberus_status = -12;

/// Streamed responses (ABI 1.4): after `KERBERUS_BUSY`, the client caught up.
pub const KERBERUS_STREAM_WRITABLE: c_int = 1;
/// Streamed responses (ABI 1.4): the client's connection is gone.
pub const KERBERUS_STREAM_CLOSED: c_int = 2;

/// A read-only byte view handed out by the host. Not NUL-terminated; `data`
/// may be NULL when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kerberus_str {
    /// The first byte; not NUL-terminated.
    pub data: *const c_char,
    /// The number of bytes.
    pub len: usize,
}

/// The host's handle for one initialised plugin instance. Opaque; valid
/// from init until destroy returns.
#[repr(C)]
pub struct kerberus_plugin_ctx {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// One HTTP exchange: the request being served and the response being
/// built. Opaque; plugin.h's "Async responses" gives its lifetime.
#[repr(C)]
pub struct kerberus_request {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// Log level: the most verbose.
pub const KERBERUS_LOG_TRACE: c_int = 0;
/// Log level.
pub const KERBERUS_LOG_DEBUG: c_int = 1;
/// Log level.
pub const KERBERUS_LOG_INFO: c_int = 2;
/// Log level.
pub const KERBERUS_LOG_WARN: c_int = 3;
/// Log level.
pub const KERBERUS_LOG_ERROR: c_int = 4;
/// Log level: the most severe.
pub const KERBERUS_LOG_CRITICAL: c_int = 5;

/// A route handler. Runs on any HTTP worker thread, concurrently.
pub type kerberus_handler_fn =
    Option<unsafe extern "C" fn(req: *mut kerberus_request, user_data: *mut c_void) -> kerberus_status>;

/// A visitor for request headers and query parameters; `name` and `value`
/// are valid only during the call. Non-zero stops the iteration.
pub type kerberus_visit_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, name: kerberus_str, value: kerberus_str) -> c_int>;

/// One header line (ABI 1.1). Not NUL-terminated.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kerberus_header {
    /// The name, in the case it was given or received in.
    pub name: kerberus_str,
    /// The value.
    pub value: kerberus_str,
}

/// Skip TLS certificate and host name verification (ABI 1.1).
pub const KERBERUS_OUTBOUND_INSECURE_TLS: u32 = 0x1;
/// ABI 1.5, `outbound_stream` only: the body is given with
/// `outbound_body_write` / `outbound_body_end`; `body` must be NULL and
/// `body_len` is its length or `KERBERUS_BODY_LENGTH_UNKNOWN` (chunked).
pub const KERBERUS_OUTBOUND_STREAMED_BODY: u32 = 0x2;
/// ABI 1.5, with `KERBERUS_OUTBOUND_STREAMED_BODY`, plain http:// only: an
/// upgrade; after a 101 the body calls carry the new protocol's bytes.
pub const KERBERUS_OUTBOUND_UPGRADE: u32 = 0x4;
/// `body_len` of a streamed body of unknown length.
pub const KERBERUS_BODY_LENGTH_UNKNOWN: usize = usize::MAX;
/// ABI 1.5 route flag: the route takes its request body streamed.
pub const KERBERUS_ROUTE_STREAMED_BODY: u32 = 0x1;
/// ABI 1.6 route flag: the route answers callers without credentials.
pub const KERBERUS_ROUTE_PUBLIC: u32 = 0x2;

/// An outbound request (ABI 1.1). The host copies everything it needs
/// before outbound_send returns.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kerberus_outbound_request {
    /// `size_of::<kerberus_outbound_request>()` as the plugin was built.
    pub struct_size: usize,
    /// "GET", "POST", ...; NUL-terminated.
    pub method: *const c_char,
    /// Absolute http:// or https:// URL; NUL-terminated.
    pub url: *const c_char,
    /// Headers sent as given (Host included, if present). The host adds
    /// none but Content-Length and, without a Host header, Host.
    pub headers: *const kerberus_header,
    /// The number of `headers`.
    pub header_count: usize,
    /// Request body (may be NULL when `body_len` is 0).
    pub body: *const c_char,
    /// The body's length.
    pub body_len: usize,
    /// 0 means the host's default: 10 s.
    pub connect_timeout_ms: u32,
    /// 0 means the host's default: 30 s in total.
    pub timeout_ms: u32,
    /// Largest response body accepted; 0 means 64 MiB. Larger responses
    /// end with `KERBERUS_ERR_TOO_LARGE`.
    pub max_response_bytes: u64,
    /// `KERBERUS_OUTBOUND_*` flags.
    pub flags: u32,
}

/// What came back from an outbound request (ABI 1.1). Valid only during the
/// completion callback.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kerberus_outbound_response {
    /// `size_of` the struct as the host was built.
    pub struct_size: usize,
    /// `KERBERUS_OK` when an HTTP response arrived (any status, 5xx
    /// included); otherwise `KERBERUS_ERR_UNREACHABLE`, `_TIMEOUT`,
    /// `_TOO_LARGE`, `_CANCELLED`.
    pub result: kerberus_status,
    /// The HTTP status; 0 when `result` is not `KERBERUS_OK`.
    pub status: c_int,
    /// Response headers in the order received; repeated names repeat.
    pub headers: *const kerberus_header,
    /// The number of `headers`.
    pub header_count: usize,
    /// The whole response body (de-chunked, not decompressed).
    pub body: kerberus_str,
    /// When `result` is not `KERBERUS_OK`: what went wrong, for logs. Never
    /// contains request headers or bodies. NUL-terminated.
    pub error: *const c_char,
}

/// Completion callback of an outbound request: called exactly once, later,
/// on one of the host's outbound threads.
pub type kerberus_outbound_done_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, response: *const kerberus_outbound_response)>;

/// What `outbound_stream` calls as the upstream's answer arrives (ABI 1.4),
/// on the request's outbound thread, one call at a time: `on_head` once,
/// `on_body` per piece (`KERBERUS_BUSY` pauses until `outbound_resume`),
/// then the request's `done`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kerberus_outbound_stream_fns {
    /// `size_of::<kerberus_outbound_stream_fns>()` as the plugin was built.
    pub struct_size: usize,
    /// The final status and headers; views valid during the call.
    pub on_head: Option<
        unsafe extern "C" fn(user_data: *mut c_void, status: c_int, headers: *const kerberus_header, header_count: usize),
    >,
    /// A piece of the body, de-chunked; valid during the call.
    pub on_body:
        Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const c_char, len: usize) -> kerberus_status>,
    /// ABI 1.5: after `outbound_body_write` returned `KERBERUS_BUSY`, called
    /// once the waiting bytes went upstream. May be NULL without a streamed body.
    pub on_body_writable: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// ABI 1.5: what `request_body_stream` delivers, on the connection's
/// worker thread, one call at a time, never after the request was answered.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kerberus_body_fns {
    /// `size_of::<kerberus_body_fns>()` as the plugin was built.
    pub struct_size: usize,
    /// A piece of the body; `KERBERUS_BUSY` pauses until `request_body_resume`.
    pub on_data:
        Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const c_char, len: usize) -> kerberus_status>,
    /// The body is over (once): `KERBERUS_OK`, or why not.
    pub on_end: Option<unsafe extern "C" fn(user_data: *mut c_void, result: kerberus_status)>,
}

/// Event callback of a streamed response (ABI 1.4): called on the
/// connection's worker thread, never after `response_end` returned.
pub type kerberus_stream_event_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, req: *mut kerberus_request, event: c_int)>;

/// A metric family (ABI 1.3). Opaque; never freed.
#[repr(C)]
pub struct kerberus_metric_family {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// One series of a metric family (ABI 1.3). Opaque; never freed.
#[repr(C)]
pub struct kerberus_metric {
    _opaque: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// Metric type: only goes up; its name must end in `_total`.
pub const KERBERUS_METRIC_COUNTER: i32 = 1;
/// Metric type: goes up and down.
pub const KERBERUS_METRIC_GAUGE: i32 = 2;
/// Metric type: observations counted into buckets, plus their sum and count.
pub const KERBERUS_METRIC_HISTOGRAM: i32 = 3;

/// What metric_family creates (ABI 1.3).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kerberus_metric_spec {
    /// `size_of::<kerberus_metric_spec>()` as the plugin was built.
    pub struct_size: usize,
    /// `KERBERUS_METRIC_COUNTER`, `_GAUGE` or `_HISTOGRAM`.
    pub r#type: i32,
    /// `[a-z_][a-z0-9_]*`, at most 100 characters, not starting with "__";
    /// the unit in the name (`_seconds`, `_bytes`), and `_total` for a
    /// counter. NUL-terminated.
    pub name: *const c_char,
    /// One line of help text (no control characters). NUL-terminated.
    pub help: *const c_char,
    /// Label names, `[a-zA-Z_][a-zA-Z0-9_]*`, not "plugin", "le" or
    /// starting with "__"; at most 8. May be NULL when `label_count` is 0.
    pub label_names: *const *const c_char,
    /// The number of `label_names`.
    pub label_count: usize,
    /// Histograms only: upper bounds of the buckets, strictly increasing,
    /// finite, at most 32 (+Inf is added). NULL / 0 for the default ones:
    /// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds).
    pub buckets: *const f64,
    /// The number of `buckets`.
    pub bucket_count: usize,
}

/// The host function table, handed to init. The pointer, and every function
/// in it, stays valid until destroy returns. Fields are append-only: test
/// with [`host_has!`](crate::host_has) before calling anything newer than
/// the minor version a plugin requires.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kerberus_host_api {
    /// `size_of` the table as the host was built. First field forever.
    pub struct_size: usize,
    /// The host's ABI major version.
    pub abi_major: u32,
    /// The host's ABI minor version.
    pub abi_minor: u32,
    /// The daemon's version, e.g. "0.1.0". NUL-terminated, static.
    pub host_version: *const c_char,

    /// Records why the current lifecycle callback (init, health) failed;
    /// the text is copied and a later call replaces it. Thread: the thread
    /// running the callback.
    pub set_error: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, msg: *const c_char, len: usize)>,

    /// Writes one log line tagged with the plugin id; `msg` need not be
    /// NUL-terminated and must not end with a newline. Thread: any.
    pub log: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, level: c_int, msg: *const c_char, len: usize)>,
    /// Non-zero if a line at `level` would be written. Thread: any.
    pub log_enabled: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, level: c_int) -> c_int>,

    /// A string of the plugin's own namespace by dotted key;
    /// `KERBERUS_ERR_NOT_FOUND` leaves `out` untouched. The view stays valid
    /// until destroy returns. Thread: any (as every config getter).
    pub config_get_string: Option<
        unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, key: *const c_char, out: *mut kerberus_str) -> kerberus_status,
    >,
    /// An integer; as `config_get_string`.
    pub config_get_int:
        Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, key: *const c_char, out: *mut i64) -> kerberus_status>,
    /// A number; as `config_get_string`.
    pub config_get_double:
        Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, key: *const c_char, out: *mut f64) -> kerberus_status>,
    /// true/false (also yes/no, on/off), written as 1 or 0; as
    /// `config_get_string`.
    pub config_get_bool: Option<
        unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, key: *const c_char, out: *mut c_int) -> kerberus_status,
    >,
    /// The whole namespace as one JSON document ("{}" when empty). Valid
    /// until destroy returns. Thread: any.
    pub config_json: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, out: *mut kerberus_str) -> kerberus_status>,

    /// Registers a handler for `method` and `pattern` below `/api/<id>`;
    /// `KERBERUS_ERR_CONFLICT` for a duplicate, `KERBERUS_ERR_INVALID` for a
    /// malformed route. Only during init (`KERBERUS_ERR_STATE` otherwise).
    /// Thread: the init thread.
    pub route_add: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            method: *const c_char,
            pattern: *const c_char,
            handler: kerberus_handler_fn,
            user_data: *mut c_void,
        ) -> kerberus_status,
    >,

    /// "GET", "POST", ... Request views stay valid as long as the request;
    /// a request may be read from one thread at a time.
    pub request_method: Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// The path below the plugin's prefix, percent-decoded and normalised.
    pub request_path: Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// The full path as the client sent it, without the query.
    pub request_raw_path:
        Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// A route parameter (":name" without the colon, or "*"), decoded.
    pub request_param: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, name: *const c_char, out: *mut kerberus_str) -> kerberus_status,
    >,
    /// The query string without '?', as received ("" when none).
    pub request_query: Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// The first value of one query parameter, percent-decoded ("+" is a
    /// space); `KERBERUS_ERR_NOT_FOUND` when absent.
    pub request_query_param: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, name: *const c_char, out: *mut kerberus_str) -> kerberus_status,
    >,
    /// Calls `visit` for each decoded query parameter, in request order.
    pub request_query_visit: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, visit: kerberus_visit_fn, user_data: *mut c_void) -> kerberus_status,
    >,
    /// One request header by case-insensitive name (the first one when the
    /// name repeats).
    pub request_header: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, name: *const c_char, out: *mut kerberus_str) -> kerberus_status,
    >,
    /// Calls `visit` for each request header, in the order received.
    pub request_header_visit: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, visit: kerberus_visit_fn, user_data: *mut c_void) -> kerberus_status,
    >,
    /// The complete request body (chunked bodies arrive de-chunked).
    pub request_body: Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// The client's address as text ("127.0.0.1").
    pub request_remote_address:
        Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,

    /// Adds a response header before respond(). Content-Length,
    /// Connection, Transfer-Encoding and names or values with CR or LF are
    /// refused with `KERBERUS_ERR_INVALID`.
    pub response_header_add: Option<
        unsafe extern "C" fn(
            req: *mut kerberus_request,
            name: *const c_char,
            value: *const c_char,
            value_len: usize,
        ) -> kerberus_status,
    >,
    /// Sends the response (status 200..599; body copied, at most 64 MiB).
    /// Thread: any. For a kept request, a return of OK, ERR_STATE or
    /// ERR_EXPIRED ends the handle's life; ERR_INVALID and ERR_TOO_LARGE
    /// send nothing and leave it answerable.
    pub respond: Option<
        unsafe extern "C" fn(req: *mut kerberus_request, status: c_int, body: *const c_char, body_len: usize) -> kerberus_status,
    >,

    /// ABI 1.1: starts an outbound request; on `KERBERUS_OK`, `done` is
    /// called exactly once, later, on one of the host's outbound threads.
    /// On an error `done` is never called. Thread: any.
    pub outbound_send: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            request: *const kerberus_outbound_request,
            done: kerberus_outbound_done_fn,
            user_data: *mut c_void,
            id: *mut u64,
        ) -> kerberus_status,
    >,
    /// ABI 1.1: cancels a request in flight (its `done` runs with
    /// `KERBERUS_ERR_CANCELLED`); `KERBERUS_ERR_NOT_FOUND` when it already
    /// completed. Thread: any.
    pub outbound_cancel: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, id: u64) -> kerberus_status>,

    /// ABI 1.2: answers 400..599 with the daemon's own JSON error body;
    /// otherwise exactly like respond().
    pub respond_error: Option<
        unsafe extern "C" fn(
            req: *mut kerberus_request,
            status: c_int,
            message: *const c_char,
            message_len: usize,
        ) -> kerberus_status,
    >,

    /// ABI 1.3: gives a registered route a one-line summary (at most 200
    /// bytes, no control characters). Only during init. Thread: the init
    /// thread.
    pub route_describe: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            method: *const c_char,
            pattern: *const c_char,
            summary: *const c_char,
            summary_len: usize,
        ) -> kerberus_status,
    >,
    /// ABI 1.3: the request's id (the client's well-formed X-Request-Id,
    /// or one the daemon made). Valid as long as the request.
    pub request_id: Option<unsafe extern "C" fn(req: *mut kerberus_request, out: *mut kerberus_str) -> kerberus_status>,
    /// ABI 1.3: creates a metric family; `KERBERUS_ERR_INVALID` for a
    /// malformed spec, `KERBERUS_ERR_CONFLICT` when the name is taken
    /// otherwise. Only during init. Thread: the init thread.
    pub metric_family: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            spec: *const kerberus_metric_spec,
            out: *mut *mut kerberus_metric_family,
        ) -> kerberus_status,
    >,
    /// ABI 1.3: the series with these label values, created on first use
    /// (at most 1000 a family). Takes a lock. Thread: any.
    pub metric_series: Option<
        unsafe extern "C" fn(
            family: *mut kerberus_metric_family,
            label_values: *const kerberus_str,
            label_count: usize,
            out: *mut *mut kerberus_metric,
        ) -> kerberus_status,
    >,
    /// ABI 1.3: adds to a counter (value >= 0) or a gauge. Lock-free.
    /// Thread: any.
    pub metric_add: Option<unsafe extern "C" fn(metric: *mut kerberus_metric, value: f64) -> kerberus_status>,
    /// ABI 1.3: sets a gauge. Lock-free. Thread: any.
    pub metric_set: Option<unsafe extern "C" fn(metric: *mut kerberus_metric, value: f64) -> kerberus_status>,
    /// ABI 1.3: observes a value in a histogram. Lock-free. Thread: any.
    pub metric_observe: Option<unsafe extern "C" fn(metric: *mut kerberus_metric, value: f64) -> kerberus_status>,
    /// ABI 1.4: sends the status line and headers of a streamed response;
    /// `content_length` -1 when unknown (chunked). Thread: any.
    pub response_start: Option<
        unsafe extern "C" fn(
            req: *mut kerberus_request,
            status: c_int,
            content_length: i64,
            on_event: kerberus_stream_event_fn,
            user_data: *mut c_void,
        ) -> kerberus_status,
    >,
    /// ABI 1.4: sends a piece of a streamed response (copied);
    /// `KERBERUS_BUSY` when the client is slow. Thread: any.
    pub response_write:
        Option<unsafe extern "C" fn(req: *mut kerberus_request, data: *const c_char, len: usize) -> kerberus_status>,
    /// ABI 1.4: finishes a streamed response; the handle is gone after it.
    /// Thread: any.
    pub response_end: Option<unsafe extern "C" fn(req: *mut kerberus_request) -> kerberus_status>,
    /// ABI 1.4: cuts a started response off (the client sees it
    /// incomplete); the handle is gone after it. Thread: any.
    pub response_abort: Option<unsafe extern "C" fn(req: *mut kerberus_request) -> kerberus_status>,
    /// ABI 1.4: `outbound_send` with the answer delivered as it arrives.
    /// Thread: any.
    pub outbound_stream: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            request: *const kerberus_outbound_request,
            fns: *const kerberus_outbound_stream_fns,
            done: kerberus_outbound_done_fn,
            user_data: *mut c_void,
            id: *mut u64,
        ) -> kerberus_status,
    >,
    /// ABI 1.4: resumes a streamed outbound answer paused by `KERBERUS_BUSY`.
    /// Thread: any.
    pub outbound_resume: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, id: u64) -> kerberus_status>,
    /// ABI 1.5: sets `KERBERUS_ROUTE_*` flags on a registered route. Init only.
    pub route_set_flags: Option<
        unsafe extern "C" fn(
            ctx: *mut kerberus_plugin_ctx,
            method: *const c_char,
            pattern: *const c_char,
            flags: u32,
        ) -> kerberus_status,
    >,
    /// ABI 1.5: starts delivering a streamed request body. Thread: any.
    pub request_body_stream: Option<
        unsafe extern "C" fn(
            req: *mut kerberus_request,
            fns: *const kerberus_body_fns,
            user_data: *mut c_void,
        ) -> kerberus_status,
    >,
    /// ABI 1.5: resumes a body paused by `KERBERUS_BUSY`. Thread: any.
    pub request_body_resume: Option<unsafe extern "C" fn(req: *mut kerberus_request) -> kerberus_status>,
    /// ABI 1.5: the next piece of an outbound request's streamed body. Thread: any.
    pub outbound_body_write: Option<
        unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, id: u64, data: *const c_char, len: usize) -> kerberus_status,
    >,
    /// ABI 1.5: ends an outbound request's streamed body. Thread: any.
    pub outbound_body_end: Option<unsafe extern "C" fn(ctx: *mut kerberus_plugin_ctx, id: u64) -> kerberus_status>,
    /// ABI 1.6: who called (subject and token type); `KERBERUS_ERR_NOT_FOUND`
    /// without verified credentials. Valid as long as the request.
    pub request_caller: Option<
        unsafe extern "C" fn(
            req: *mut kerberus_request,
            subject: *mut kerberus_str,
            token_type: *mut kerberus_str,
        ) -> kerberus_status,
    >,
}

/// The plugin descriptor: static, read by the host before anything else.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct kerberus_plugin_descriptor {
    /// `size_of::<kerberus_plugin_descriptor>()` as the plugin was built.
    pub struct_size: usize,
    /// The ABI the plugin was built against: `KERBERUS_ABI_MAJOR`.
    pub abi_major: u32,
    /// The ABI the plugin was built against: `KERBERUS_ABI_MINOR`.
    pub abi_minor: u32,
    /// The plugin id: `[a-z0-9][a-z0-9-]*`, at most 64 characters: the
    /// route prefix `/api/<id>/` and the config namespace `plugins.<id>`.
    pub id: *const c_char,
    /// Semantic version "MAJOR.MINOR.PATCH" (a "-prerelease" suffix is
    /// allowed).
    pub version: *const c_char,
    /// One line for humans. May be NULL.
    pub description: *const c_char,
    /// Initialises one instance; on an error, after set_error(), the plugin
    /// is marked failed and destroy is still called. Thread: main. Required.
    pub init: Option<
        unsafe extern "C" fn(
            host: *const kerberus_host_api,
            ctx: *mut kerberus_plugin_ctx,
            instance: *mut *mut c_void,
        ) -> kerberus_status,
    >,
    /// No new requests will reach this instance: finish or abandon kept
    /// requests, stop and join threads. Thread: main. Optional.
    pub stop: Option<unsafe extern "C" fn(instance: *mut c_void)>,
    /// Frees everything the instance owns; afterwards the host may unload
    /// the file. Thread: main. Optional.
    pub destroy: Option<unsafe extern "C" fn(instance: *mut c_void)>,
    /// Whether the instance can serve (after set_error() with the reason
    /// when not). Thread: the host's health thread, concurrently with
    /// handlers. Optional (NULL means "always healthy").
    pub health: Option<unsafe extern "C" fn(instance: *mut c_void) -> kerberus_status>,
    /// ABI 1.3. A JSON Schema (draft-04) for the plugin's settings, checked
    /// by the host before init, at `--check` and on reload; its defaults
    /// are filled in before the plugin reads them. NUL-terminated, static;
    /// null when the plugin declares none.
    pub config_schema: *const c_char,
}

/// The type of the entry function.
pub type kerberus_plugin_entry_fn = Option<unsafe extern "C" fn() -> *const kerberus_plugin_descriptor>;

/// The byte offset of `field` in `kerberus_host_api` plus its size: what
/// `KERBERUS_HOST_HAS` compares with the host's `struct_size`.
#[doc(hidden)]
#[macro_export]
macro_rules! __host_api_field_end {
    ($field:ident) => {{
        let table = ::core::mem::MaybeUninit::<$crate::sys::kerberus_host_api>::uninit();
        let base = table.as_ptr();
        // SAFETY: addr_of! computes the address without reading the
        // uninitialised memory.
        #[allow(unused_unsafe)]
        let field = unsafe { ::core::ptr::addr_of!((*base).$field) };
        fn size_of_pointee<T>(_: *const T) -> usize {
            ::core::mem::size_of::<T>()
        }
        (field as usize - base as usize) + size_of_pointee(field)
    }};
}

/// `KERBERUS_HOST_HAS(host, field)`: true if the host's table (a
/// `*const kerberus_host_api`, may be null) has `field`, i.e. the host is new
/// enough to provide that function.
///
/// ```
/// # use kerberus_plugin::{host_has, sys};
/// fn can_describe(host: *const sys::kerberus_host_api) -> bool {
///     host_has!(host, route_describe)
/// }
/// assert!(!can_describe(std::ptr::null()));
/// ```
#[macro_export]
macro_rules! host_has {
    ($host:expr, $field:ident) => {{
        let host: *const $crate::sys::kerberus_host_api = $host;
        // SAFETY: only struct_size, the first field of every version of the
        // table, is read.
        #[allow(unused_unsafe)]
        let size = if host.is_null() { 0 } else { unsafe { (*host).struct_size } };
        !host.is_null() && $crate::__host_api_field_end!($field) <= size
    }};
}
