//! What one plugin instance shares between its Host handles, its routes,
//! its kept requests and its fetches, and the helpers every boundary uses.
use std::any::Any;
use std::borrow::Cow;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::sys;

/// Looks a function up in the host's table. init refuses a table with a
/// NULL entry, so `None` cannot happen afterwards; should it anyway,
/// aborting is the one way out that never unwinds into C.
macro_rules! host_fn {
    ($api:expr, $name:ident) => {
        match $api.$name {
            Some(f) => f,
            None => ::std::process::abort(),
        }
    };
}
pub(crate) use host_fn;

/// A route registered with the host: the handler and the instance it
/// belongs to. Leaked into the host as user_data by `Host::route` and
/// reclaimed by destroy, which also breaks the cycle of handlers that hold
/// a Host.
pub(crate) struct RouteEntry {
    pub(crate) core: std::sync::Arc<Core>,
    pub(crate) handler: Handler,
}

/// A route handler with its result made uniform: the failure to log.
pub(crate) type Handler = Box<dyn Fn(&mut crate::Request<'_>) -> Result<(), String> + Send + Sync>;

struct RoutePtr(*mut RouteEntry);
// SAFETY: only moved between threads to be freed; the entries themselves
// are Send + Sync.
unsafe impl Send for RoutePtr {}

/// Something the host may still hand back until the plugin is destroyed
/// (the event closure of a stream cut off at stop): a pointer and the
/// function that frees it, called by destroy.
pub(crate) struct Deferred {
    pub(crate) ptr: *mut c_void,
    pub(crate) free: unsafe fn(*mut c_void),
}
// SAFETY: only moved between threads to be freed; what it points to is
// Send.
unsafe impl Send for Deferred {}

pub(crate) struct Core {
    api: *const sys::kerberus_host_api,
    pub(crate) ctx: *mut sys::kerberus_plugin_ctx,
    /// Set once stop has returned: the host has answered and freed every
    /// kept request, so PendingRequests must never touch theirs again.
    stopped: AtomicBool,
    /// Stream calls in flight (see `while_running`); `stopped` is set under
    /// this lock, once it is zero.
    stream_calls: Mutex<usize>,
    stream_calls_done: Condvar,
    routes: Mutex<Vec<RoutePtr>>,
    deferred: Mutex<Vec<Deferred>>,
}

// SAFETY: plugin.h makes host functions thread-safe, and api and ctx stay
// valid until destroy returns; the rest is atomics and a mutex.
unsafe impl Send for Core {}
unsafe impl Sync for Core {}

impl Core {
    pub(crate) fn new(api: *const sys::kerberus_host_api, ctx: *mut sys::kerberus_plugin_ctx) -> Core {
        Core {
            api,
            ctx,
            stopped: AtomicBool::new(false),
            stream_calls: Mutex::new(0),
            stream_calls_done: Condvar::new(),
            routes: Mutex::new(Vec::new()),
            deferred: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn api(&self) -> &sys::kerberus_host_api {
        // SAFETY: the host keeps its table valid until destroy returns, and
        // nothing in this crate reaches the host after that.
        unsafe { &*self.api }
    }

    pub(crate) fn raw_api(&self) -> *const sys::kerberus_host_api {
        self.api
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Called as stop returns (and by destroy). Waits for the stream calls
    /// in flight: the host frees a stream's request right after stop.
    pub(crate) fn mark_stopped(&self) {
        let mut calls = lock(&self.stream_calls);
        self.stopped.store(true, Ordering::Release);
        while *calls > 0 {
            calls = self.stream_calls_done.wait(calls).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Runs `f`, a host call on a streamed response, unless stop has
    /// returned (then `None`, and `f` does not run). Unlike a kept request,
    /// a stream is written for as long as it lasts, so a thread the plugin
    /// failed to join in stop is likely to write just as the host frees
    /// the request: mark_stopped waits for such a call instead.
    /// `f` must not wait for the main thread.
    pub(crate) fn while_running<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        {
            let mut calls = lock(&self.stream_calls);
            if self.stopped() {
                return None;
            }
            *calls += 1;
        }
        struct Done<'c>(&'c Core);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                let mut calls = lock(&self.0.stream_calls);
                *calls -= 1;
                if *calls == 0 {
                    self.0.stream_calls_done.notify_all();
                }
            }
        }
        let _done = Done(self);
        Some(f())
    }

    /// Keeps `what` until destroy frees it.
    pub(crate) fn defer_free(&self, what: Deferred) {
        lock(&self.deferred).push(what);
    }

    /// Frees what `defer_free` kept. Only in destroy: the host hands none of
    /// it back any more. Freeing may defer more (a closure that owned a
    /// stream), so this goes on until nothing is left.
    pub(crate) fn free_deferred(&self) {
        loop {
            let batch = std::mem::take(&mut *lock(&self.deferred));
            if batch.is_empty() {
                return;
            }
            for Deferred { ptr, free } in batch {
                // SAFETY: each was deferred once, with its own free function.
                let _ = catch(|| unsafe { free(ptr) });
            }
        }
    }

    pub(crate) fn add_route(&self, entry: *mut RouteEntry) {
        lock(&self.routes).push(RoutePtr(entry));
    }

    /// Frees every route entry. Only after stop: no handler runs any more.
    pub(crate) fn free_routes(&self) {
        let routes = std::mem::take(&mut *lock(&self.routes));
        for RoutePtr(entry) in routes {
            // SAFETY: each entry came from Box::into_raw in Host::route and
            // is freed once, here.
            drop_quietly(unsafe { Box::from_raw(entry) });
        }
    }

    pub(crate) fn log(&self, level: c_int, message: &str) {
        // plugin.h: a log message must not end with a newline.
        let message = message.trim_end_matches(&['\n', '\r'][..]);
        // SAFETY: pointer and length of a live str; the host copies it.
        unsafe { host_fn!(self.api(), log)(self.ctx, level, data_of(message.as_bytes()), message.len()) }
    }

    pub(crate) fn log_enabled(&self, level: c_int) -> bool {
        // SAFETY: ctx is valid until destroy.
        unsafe { host_fn!(self.api(), log_enabled)(self.ctx, level) != 0 }
    }

    pub(crate) fn set_error(&self, message: &str) {
        // SAFETY: as log.
        unsafe { host_fn!(self.api(), set_error)(self.ctx, data_of(message.as_bytes()), message.len()) }
    }
}

/// The name of the first host function the table lacks, if any: the crate
/// calls every function of ABI 1.4 without testing for it first.
///
/// # Safety
/// `api` must point to a host table (of any version).
pub(crate) unsafe fn missing_function(api: *const sys::kerberus_host_api) -> Option<&'static str> {
    // Only struct_size is read before the table is known to be whole.
    if (*api).struct_size < std::mem::size_of::<sys::kerberus_host_api>() {
        return Some("functions of ABI 1.4");
    }
    let api = &*api;
    macro_rules! first_missing {
        ($($field:ident),* $(,)?) => {
            $(if api.$field.is_none() { return Some(stringify!($field)); })*
        };
    }
    first_missing!(
        set_error, log, log_enabled, config_get_string, config_get_int, config_get_double, config_get_bool,
        config_json, route_add, request_method, request_path, request_raw_path, request_param, request_query,
        request_query_param, request_query_visit, request_header, request_header_visit, request_body,
        request_remote_address, response_header_add, respond, outbound_send, outbound_cancel, respond_error,
        route_describe, request_id, metric_family, metric_series, metric_add, metric_set, metric_observe,
        response_start, response_write, response_end, response_abort, outbound_stream, outbound_resume,
    );
    None
}

/// A mutex whose data stays usable after a panic while it was held: every
/// value guarded here is consistent between statements.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The host copies what it is given and may receive NULL only with a zero
/// length; an empty slice's pointer is dangling, not NULL, which is fine.
pub(crate) fn data_of(bytes: &[u8]) -> *const c_char {
    bytes.as_ptr() as *const c_char
}

/// The bytes of a view the host handed out.
///
/// # Safety
/// `s` must come from the host and still be valid for `'a`.
pub(crate) unsafe fn bytes<'a>(s: sys::kerberus_str) -> &'a [u8] {
    if s.data.is_null() || s.len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(s.data as *const u8, s.len)
    }
}

/// Text from the host: borrowed when it is well-formed UTF-8, with U+FFFD
/// in place of ill-formed sequences otherwise.
pub(crate) fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

pub(crate) const EMPTY: sys::kerberus_str = sys::kerberus_str { data: std::ptr::null(), len: 0 };

/// Calls `f` with `s` as a NUL-terminated string; `None` when `s` holds a
/// NUL itself, which no name plugin.h takes can contain. Short names, the
/// usual case, need no allocation.
pub(crate) fn with_c_str<R>(s: &str, f: impl FnOnce(*const c_char) -> R) -> Option<R> {
    let bytes = s.as_bytes();
    if bytes.contains(&0) {
        return None;
    }
    let mut buffer = [0u8; 128];
    if bytes.len() < buffer.len() {
        buffer[..bytes.len()].copy_from_slice(bytes);
        return Some(f(buffer.as_ptr() as *const c_char));
    }
    let mut owned = Vec::with_capacity(bytes.len() + 1);
    owned.extend_from_slice(bytes);
    owned.push(0);
    Some(f(owned.as_ptr() as *const c_char))
}

/// What a panic said: its message when it was a string (as from `panic!`,
/// `unwrap`, `expect`), a placeholder otherwise.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic whose payload is not a string".to_string()
    }
}

/// Drops `value`, swallowing a panic from its destructor: used where
/// nothing may unwind (into C, or out of a drop during a panic).
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(value))) {
        // A payload whose own drop panics is the end of the line: leak it.
        std::mem::forget(payload);
    }
}

/// Runs `f`, the body of a function the host calls. Whatever `f` lets
/// escape (it should catch and report its own panics first) ends here and
/// gives `fallback`, so no unwind ever crosses into C.
pub(crate) fn boundary<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            drop_quietly(payload);
            fallback
        }
    }
}

/// Runs `f`, turning a panic into its message.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(&*payload);
        drop_quietly(payload);
        message
    })
}

/// A visitor's closure and the panic it raised, if any: the trampoline
/// stops the host's iteration and the panic resumes once the host has
/// returned.
pub(crate) struct Visit<'f> {
    pub(crate) visit: &'f mut dyn FnMut(&[u8], &[u8]),
    pub(crate) panic: Option<Box<dyn Any + Send>>,
}

pub(crate) unsafe extern "C" fn visit_trampoline(
    user_data: *mut c_void,
    name: sys::kerberus_str,
    value: sys::kerberus_str,
) -> c_int {
    boundary(1, || {
        let state = &mut *(user_data as *mut Visit<'_>);
        match panic::catch_unwind(AssertUnwindSafe(|| (state.visit)(bytes(name), bytes(value)))) {
            Ok(()) => 0,
            Err(payload) => {
                state.panic = Some(payload);
                1
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn names_are_passed_nul_terminated_whatever_their_length() {
        for len in [0usize, 1, 127, 128, 129, 1000] {
            let name = "n".repeat(len);
            let seen = with_c_str(&name, |p| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string());
            assert_eq!(seen.as_deref(), Some(name.as_str()));
        }
        assert_eq!(with_c_str("a\0b", |_| ()), None);
    }

    #[test]
    fn ill_formed_utf8_is_replaced_and_well_formed_text_borrowed() {
        assert!(matches!(text(b"caf\xc3\xa9"), Cow::Borrowed("café")));
        assert_eq!(text(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(unsafe { bytes(EMPTY) }, b"");
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        assert_eq!(catch(|| panic!("plain")), Err("plain".to_string()));
        assert_eq!(catch(|| panic!("formatted {}", 7)), Err("formatted 7".to_string()));
        assert_eq!(catch(|| std::panic::panic_any(42)), Err("a panic whose payload is not a string".to_string()));
        assert_eq!(boundary(-8, || -> i32 { panic!("escaped") }), -8);
    }
}
