use std::fmt;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

use crate::shared::{self, host_fn, Core, RouteEntry};
use crate::error::{Error, ErrorCode};
use crate::metrics::MetricFamily;
use crate::outbound::{self, OutboundRequest, OutboundResponse};
use crate::request::Request;
use crate::sys;

/// Log levels, in increasing severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `KERBERUS_LOG_TRACE`
    Trace,
    /// `KERBERUS_LOG_DEBUG`
    Debug,
    /// `KERBERUS_LOG_INFO`
    Info,
    /// `KERBERUS_LOG_WARN`
    Warn,
    /// `KERBERUS_LOG_ERROR`
    Error,
    /// `KERBERUS_LOG_CRITICAL`
    Critical,
}

impl Level {
    /// The value plugin.h gives the level.
    pub fn raw(self) -> c_int {
        match self {
            Level::Trace => sys::KERBERUS_LOG_TRACE,
            Level::Debug => sys::KERBERUS_LOG_DEBUG,
            Level::Info => sys::KERBERUS_LOG_INFO,
            Level::Warn => sys::KERBERUS_LOG_WARN,
            Level::Error => sys::KERBERUS_LOG_ERROR,
            Level::Critical => sys::KERBERUS_LOG_CRITICAL,
        }
    }
}

/// What a route handler may return: `()`, or a `Result<(), E>` whose error
/// is logged (with the method and path) before the host answers 500 to a
/// request that was not answered. `Request::respond` returns such a
/// `Result`, so `|req| req.respond(200, "hi")` is a handler.
pub trait HandlerResult {
    /// The failure to log, if any.
    fn into_result(self) -> Result<(), String>;
}

impl HandlerResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> HandlerResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// The plugin's access to the host: logging, its own config namespace, its
/// routes, outbound HTTP and metrics.
///
/// A `Host` is a cheap handle (`Clone`, `Send`, `Sync`): clone it into
/// handlers and the plugin's threads. It is usable from `init` until the
/// plugin is destroyed; every function is thread-safe, but routes and
/// metric families can only be made during `init`. Threads that hold one
/// must be joined in [`stop`](crate::Plugin::stop): after destroy, the
/// host's table is gone.
#[derive(Clone)]
pub struct Host {
    pub(crate) core: Arc<Core>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host").field("host_version", &self.host_version()).finish()
    }
}

/// A route just registered; give it a summary with
/// [`summary`](Route::summary).
#[derive(Debug)]
pub struct Route<'h> {
    host: &'h Host,
    method: String,
    pattern: String,
}

impl<'h> Route<'h> {
    /// Lets callers without credentials reach the route (ABI 1.6,
    /// `KERBERUS_ROUTE_PUBLIC`): Backstage's
    /// `addAuthPolicy({ allow: 'unauthenticated' })`. Every other route
    /// needs a token the operator configured; the operator may still close
    /// this one. Only during `init`. Chain [`summary`](Route::summary) after it.
    pub fn allow_unauthenticated(self) -> Result<Route<'h>, Error> {
        let context = || format!("route {} {} public", self.method, self.pattern);
        let api = self.host.core.api();
        let status = shared::with_c_str(&self.method, |method| {
            shared::with_c_str(&self.pattern, |pattern| {
                // SAFETY: NUL-terminated names of a route this plugin added.
                unsafe { host_fn!(api, route_set_flags)(self.host.core.ctx, method, pattern, sys::KERBERUS_ROUTE_PUBLIC) }
            })
        })
        .flatten()
        .unwrap_or(sys::KERBERUS_ERR_INVALID);
        ErrorCode::check(status).map_err(|code| Error::refused(code, context()))?;
        Ok(self)
    }
}

impl Route<'_> {
    /// Gives the route a one-line summary ("Greets :name"), shown in the
    /// plugin inventory, the OpenAPI document and the dashboard. At most
    /// 200 bytes, no control characters. Only during `init`.
    pub fn summary(self, summary: &str) -> Result<(), Error> {
        let context = || format!("route {} {} summary", self.method, self.pattern);
        let api = self.host.core.api();
        let status = shared::with_c_str(&self.method, |method| {
            shared::with_c_str(&self.pattern, |pattern| {
                // SAFETY: NUL-terminated names and a live slice, copied by
                // the host.
                unsafe {
                    host_fn!(api, route_describe)(
                        self.host.core.ctx,
                        method,
                        pattern,
                        shared::data_of(summary.as_bytes()),
                        summary.len(),
                    )
                }
            })
        })
        .flatten()
        .unwrap_or(sys::KERBERUS_ERR_INVALID);
        ErrorCode::check(status).map_err(|code| Error::refused(code, context()))
    }
}

impl Host {
    pub(crate) fn new(core: Arc<Core>) -> Host {
        Host { core }
    }

    /// The daemon's version, e.g. "0.1.0".
    pub fn host_version(&self) -> &str {
        let version = self.core.api().host_version;
        if version.is_null() {
            return "";
        }
        // SAFETY: NUL-terminated and static, says plugin.h.
        unsafe { std::ffi::CStr::from_ptr(version) }.to_str().unwrap_or("")
    }

    /// The host's function table, for functions the crate does not wrap.
    /// Valid until the plugin is destroyed.
    pub fn raw_api(&self) -> *const sys::kerberus_host_api {
        self.core.raw_api()
    }

    /// The plugin's context, to pass to raw host functions.
    pub fn raw_ctx(&self) -> *mut sys::kerberus_plugin_ctx {
        self.core.ctx
    }

    // ---- Logging -------------------------------------------------------

    /// Writes one log line, tagged with the plugin id by the host. Trailing
    /// newlines are dropped (a line must not end with one). Lines below the
    /// plugin's level are dropped cheaply; test
    /// [`log_enabled`](Host::log_enabled) first when the message is costly
    /// to build.
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        self.core.log(level.raw(), message.as_ref())
    }

    /// True if a line at `level` would be written.
    pub fn log_enabled(&self, level: Level) -> bool {
        self.core.log_enabled(level.raw())
    }

    /// A line at TRACE.
    pub fn trace(&self, message: impl AsRef<str>) {
        self.log(Level::Trace, message)
    }

    /// A line at DEBUG.
    pub fn debug(&self, message: impl AsRef<str>) {
        self.log(Level::Debug, message)
    }

    /// A line at INFO.
    pub fn info(&self, message: impl AsRef<str>) {
        self.log(Level::Info, message)
    }

    /// A line at WARN.
    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(Level::Warn, message)
    }

    /// A line at ERROR.
    pub fn error(&self, message: impl AsRef<str>) {
        self.log(Level::Error, message)
    }

    // ---- Configuration ---------------------------------------------------

    /// A string from the plugin's own namespace (`plugins.<id>.config`), by
    /// dotted key: "upstream.timeout", "servers.0.host". `Ok(None)` when
    /// the key is absent; an [`Error`] naming the key when the value has
    /// another type, so that `?` in `init` fails the plugin instead of it
    /// silently taking a default. Values are copied (ill-formed UTF-8 reads
    /// as U+FFFD).
    pub fn config_string(&self, key: &str) -> Result<Option<String>, Error> {
        let mut out = shared::EMPTY;
        let found = self.config(key, |f, ctx, key| {
            // SAFETY: out is a live kerberus_str.
            unsafe { host_fn!(f, config_get_string)(ctx, key, &mut out) }
        })?;
        // SAFETY: config strings stay valid until destroy.
        Ok(found.then(|| shared::text(unsafe { shared::bytes(out) }).into_owned()))
    }

    /// An integer; as [`config_string`](Host::config_string).
    pub fn config_int(&self, key: &str) -> Result<Option<i64>, Error> {
        let mut out = 0i64;
        let found = self.config(key, |f, ctx, key| unsafe { host_fn!(f, config_get_int)(ctx, key, &mut out) })?;
        Ok(found.then_some(out))
    }

    /// A number; as [`config_string`](Host::config_string).
    pub fn config_double(&self, key: &str) -> Result<Option<f64>, Error> {
        let mut out = 0f64;
        let found = self.config(key, |f, ctx, key| unsafe { host_fn!(f, config_get_double)(ctx, key, &mut out) })?;
        Ok(found.then_some(out))
    }

    /// A boolean (true/false, yes/no, on/off); as
    /// [`config_string`](Host::config_string).
    pub fn config_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        let mut out: c_int = 0;
        let found = self.config(key, |f, ctx, key| unsafe { host_fn!(f, config_get_bool)(ctx, key, &mut out) })?;
        Ok(found.then_some(out != 0))
    }

    /// The whole namespace as one JSON document ("{}" when the plugin has
    /// no settings). Scalars quoted in YAML are JSON strings; plain ones
    /// become numbers, booleans or null where they read as such.
    pub fn config_json(&self) -> Result<String, Error> {
        let mut out = shared::EMPTY;
        // SAFETY: out is a live kerberus_str.
        let status = unsafe { host_fn!(self.core.api(), config_json)(self.core.ctx, &mut out) };
        ErrorCode::check(status).map_err(|code| Error::refused(code, "config_json"))?;
        // SAFETY: valid until destroy.
        Ok(shared::text(unsafe { shared::bytes(out) }).into_owned())
    }

    fn config(
        &self,
        key: &str,
        get: impl FnOnce(&sys::kerberus_host_api, *mut sys::kerberus_plugin_ctx, *const std::os::raw::c_char) -> sys::kerberus_status,
    ) -> Result<bool, Error> {
        let api = self.core.api();
        let ctx = self.core.ctx;
        let status = shared::with_c_str(key, |key| get(api, ctx, key)).unwrap_or(sys::KERBERUS_ERR_INVALID);
        match ErrorCode::check(status) {
            Ok(()) => Ok(true),
            Err(ErrorCode::NotFound) => Ok(false),
            Err(code) => Err(Error::refused(code, format!("config key '{}'", key))),
        }
    }

    // ---- Routes ----------------------------------------------------------

    /// Registers `handler` for `method` ("GET", "POST", ..., or "*" for any
    /// method) and `pattern`, relative to the plugin's prefix `/api/<id>`:
    /// "/" for the prefix itself, "/items/:id" where `:id` matches one
    /// non-empty segment, "/files/*" where a last `*` matches the rest of
    /// the path (read it with `param("*")`). A literal segment beats a
    /// parameter, which beats `*`; HEAD falls back to GET.
    ///
    /// Only during `init`: afterwards, and for a duplicate or a malformed
    /// route, the host refuses it and the [`Error`] names the route. Chain
    /// [`summary`](Route::summary) to describe it.
    ///
    /// The handler runs on the HTTP worker threads, concurrently with
    /// itself: whatever it captures must be `Send + Sync`. It must not
    /// block: keep the request and answer from a thread of your own (or a
    /// fetch completion) instead. A panic in it is caught, logged at ERROR
    /// with the method, the path and the panic's message, and answered 500
    /// by the host if the request was not answered.
    pub fn route<F, R>(&self, method: &str, pattern: &str, handler: F) -> Result<Route<'_>, Error>
    where
        F: Fn(&mut Request<'_>) -> R + Send + Sync + 'static,
        R: HandlerResult,
    {
        let context = || format!("route {} {}", method, pattern);
        let entry = Box::into_raw(Box::new(RouteEntry {
            core: Arc::clone(&self.core),
            handler: Box::new(move |request| handler(request).into_result()),
        }));
        let api = self.core.api();
        let status = shared::with_c_str(method, |method| {
            shared::with_c_str(pattern, |pattern| {
                // SAFETY: the entry stays allocated until destroy, after
                // which the host calls no handler.
                unsafe { host_fn!(api, route_add)(self.core.ctx, method, pattern, Some(dispatch), entry as *mut c_void) }
            })
        })
        .flatten()
        .unwrap_or(sys::KERBERUS_ERR_INVALID);
        match ErrorCode::check(status) {
            Ok(()) => {
                self.core.add_route(entry);
                Ok(Route { host: self, method: method.to_string(), pattern: pattern.to_string() })
            }
            Err(code) => {
                // SAFETY: the host refused it, so nothing else holds it.
                shared::drop_quietly(unsafe { Box::from_raw(entry) });
                Err(Error::refused(code, context()))
            }
        }
    }

    // ---- Metrics ---------------------------------------------------------

    /// A counter family (only goes up; `name` must end in `_total`),
    /// exposed on the admin listener's /metrics as
    /// `kerberus_plugin_<id>_<name>{plugin="<id>",...}`. `labels` name the
    /// dimensions each series gives values for (at most 8). Only during
    /// `init`; the [`Error`] says the host refused the spec (its log line
    /// says which rule).
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Result<MetricFamily, Error> {
        MetricFamily::create(self, sys::KERBERUS_METRIC_COUNTER, name, help, labels, &[])
    }

    /// A gauge family (goes up and down); as [`counter`](Host::counter).
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Result<MetricFamily, Error> {
        MetricFamily::create(self, sys::KERBERUS_METRIC_GAUGE, name, help, labels, &[])
    }

    /// A histogram family; `buckets` are upper bounds, strictly
    /// increasing, at most 32, or empty for .005 s to 10 s. Put the unit in
    /// the name (`_seconds`, `_bytes`). As [`counter`](Host::counter).
    pub fn histogram(&self, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> Result<MetricFamily, Error> {
        MetricFamily::create(self, sys::KERBERUS_METRIC_HISTOGRAM, name, help, labels, buckets)
    }

    // ---- Outbound HTTP ---------------------------------------------------

    /// Sends an HTTP request through the daemon's shared client and returns
    /// its id (for [`cancel_fetch`](Host::cancel_fetch)) at once; never waits
    /// for the network. `done` runs exactly once:
    ///
    /// - later, on one of the host's outbound threads (completions of
    ///   different fetches may run concurrently), with the response or the
    ///   reason there is none. It must not block; answering a
    ///   [`PendingRequest`](crate::PendingRequest) it owns is fine. A panic
    ///   in it is logged at ERROR.
    /// - or, when the host refuses the request (bad method or URL:
    ///   `Invalid`; the plugin not running: `State`), before `fetch` returns
    ///   `None`, on the calling thread, after an ERROR log line. Don't hold
    ///   a lock `done` takes while calling `fetch`.
    ///
    /// Completions may run after [`stop`](crate::Plugin::stop) has begun
    /// (the host cancels what is in flight, then calls stop): a kept request
    /// is still answerable then.
    pub fn fetch<F>(&self, request: &OutboundRequest, done: F) -> Option<u64>
    where
        F: FnOnce(&OutboundResponse<'_>) + Send + 'static,
    {
        outbound::fetch(&self.core, request, Box::new(done))
    }

    /// Cancels a fetch in flight: its completion then runs with
    /// `Err(ErrorCode::Cancelled)`, on one of the outbound threads. False
    /// when it already completed (its completion ran or is running).
    pub fn cancel_fetch(&self, id: u64) -> bool {
        // SAFETY: plain values.
        unsafe { host_fn!(self.core.api(), outbound_cancel)(self.core.ctx, id) == sys::KERBERUS_OK }
    }
}

/// The kerberus_handler_fn of every route: runs the entry's handler, catches
/// what it raises and tells the host how it ended.
unsafe extern "C" fn dispatch(req: *mut sys::kerberus_request, user_data: *mut c_void) -> sys::kerberus_status {
    shared::boundary(sys::KERBERUS_ERR_INTERNAL, || {
        // SAFETY: user_data is the RouteEntry given to route_add, alive
        // until destroy.
        let entry = &*(user_data as *const RouteEntry);
        let mut request = Request::new(&entry.core, req);
        let failure = match shared::catch(|| (entry.handler)(&mut request)) {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(("failed", message)),
            Err(message) => Some(("panicked", message)),
        };
        if let Some((how, what)) = &failure {
            request.log_failure(how, what);
        }
        if request.kept() {
            sys::KERBERUS_ASYNC
        } else if request.responded() || failure.is_none() {
            // Unanswered without a failure: the host answers 500 and logs
            // "returned without responding", which is what it is.
            sys::KERBERUS_OK
        } else {
            sys::KERBERUS_ERR_INTERNAL
        }
    })
}
