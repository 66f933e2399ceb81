use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::os::raw::c_void;
use std::sync::Arc;
use std::time::Duration;

use crate::shared::{self, host_fn, Core};
use crate::error::ErrorCode;
use crate::sys;

/// A request for [`Host::fetch`](crate::Host::fetch). The host copies all
/// of it before `fetch` returns, so it may be a temporary.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundRequest {
    /// "GET", "POST", ...
    pub method: String,
    /// An absolute http:// or https:// URL.
    pub url: String,
    /// Sent as given, in this order. Without a Host header the host derives
    /// one from the URL; the only header it adds is Content-Length.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// Zero for the host's default (10 s); otherwise whole milliseconds,
    /// rounded up.
    pub connect_timeout: Duration,
    /// Zero for the host's default (30 s in total).
    pub timeout: Duration,
    /// The largest response body accepted, 0 for the host's 64 MiB. A
    /// larger one ends the fetch with `ErrorCode::TooLarge`.
    pub max_response_bytes: u64,
    /// Skips TLS certificate and host name checks (tests, private CAs).
    pub insecure_tls: bool,
}

impl Default for OutboundRequest {
    fn default() -> OutboundRequest {
        OutboundRequest {
            method: "GET".to_string(),
            url: String::new(),
            headers: Vec::new(),
            body: Vec::new(),
            connect_timeout: Duration::ZERO,
            timeout: Duration::ZERO,
            max_response_bytes: 0,
            insecure_tls: false,
        }
    }
}

impl OutboundRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> OutboundRequest {
        OutboundRequest { url: url.into(), ..OutboundRequest::default() }
    }

    /// A request with another method and a body.
    pub fn new(method: impl Into<String>, url: impl Into<String>, body: impl Into<Vec<u8>>) -> OutboundRequest {
        OutboundRequest { method: method.into(), url: url.into(), body: body.into(), ..OutboundRequest::default() }
    }

    /// Appends a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> OutboundRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the total timeout.
    pub fn timeout(mut self, timeout: Duration) -> OutboundRequest {
        self.timeout = timeout;
        self
    }
}

/// How a fetch ended. The views borrow the host's response and are valid
/// during the completion only: copy what you keep.
#[derive(Debug)]
pub struct OutboundResponse<'a> {
    /// `Ok(())` when an HTTP response arrived (any status, 5xx included);
    /// otherwise `Unreachable`, `Timeout`, `TooLarge`, `Cancelled`, or why
    /// the host refused to start it.
    pub result: Result<(), ErrorCode>,
    /// The HTTP status; 0 unless `result` is `Ok`.
    pub status: u16,
    /// In the order received; repeated names repeat.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// The whole body, de-chunked (not decompressed).
    pub body: &'a [u8],
    /// What went wrong, for logs, when `result` is an error. Never holds
    /// request headers or bodies.
    pub error: Cow<'a, str>,
}

impl<'a> OutboundResponse<'a> {
    /// The first header with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|&(_, v)| v)
    }

    /// The body as text (ill-formed UTF-8 reads as U+FFFD).
    pub fn body_str(&self) -> Cow<'a, str> {
        shared::text(self.body)
    }
}

type Done = Box<dyn FnOnce(&OutboundResponse<'_>) + Send>;

/// One fetch: owns the completion from `fetch` until it has run once. The
/// host holds it as user_data while the request is in flight.
struct FetchCall {
    core: Arc<Core>,
    done: Done,
}

impl FetchCall {
    fn run(self, response: &OutboundResponse<'_>) {
        let FetchCall { core, done } = self;
        if let Err(message) = shared::catch(move || done(response)) {
            core.log(sys::KERBERUS_LOG_ERROR, &format!("fetch completion panicked: {}", message));
        }
    }
}

// plugin.h takes 32-bit milliseconds, 0 meaning "the host's default".
fn millis(d: Duration) -> u32 {
    if d.is_zero() {
        return 0;
    }
    let ms = d.as_nanos().saturating_add(999_999) / 1_000_000;
    u32::try_from(ms).unwrap_or(u32::MAX)
}

pub(crate) fn fetch(core: &Arc<Core>, request: &OutboundRequest, done: Done) -> Option<u64> {
    let call = Box::new(FetchCall { core: Arc::clone(core), done });
    let (method, url) = match (CString::new(request.method.as_str()), CString::new(request.url.as_str())) {
        (Ok(method), Ok(url)) => (method, url),
        _ => return refuse(*call, &request.method, sys::KERBERUS_ERR_INVALID, "the method or URL holds a NUL byte"),
    };
    let headers: Vec<sys::kerberus_header> = request
        .headers
        .iter()
        .map(|(name, value)| sys::kerberus_header {
            name: sys::kerberus_str { data: shared::data_of(name.as_bytes()), len: name.len() },
            value: sys::kerberus_str { data: shared::data_of(value.as_bytes()), len: value.len() },
        })
        .collect();
    let out = sys::kerberus_outbound_request {
        struct_size: std::mem::size_of::<sys::kerberus_outbound_request>(),
        method: method.as_ptr(),
        url: url.as_ptr(),
        headers: headers.as_ptr(),
        header_count: headers.len(),
        body: shared::data_of(&request.body),
        body_len: request.body.len(),
        connect_timeout_ms: millis(request.connect_timeout),
        timeout_ms: millis(request.timeout),
        max_response_bytes: request.max_response_bytes,
        flags: if request.insecure_tls { sys::KERBERUS_OUTBOUND_INSECURE_TLS } else { 0 },
    };
    let user_data = Box::into_raw(call);
    let mut id = 0u64;
    // SAFETY: everything `out` points to lives until the call returns (the
    // host copies it); user_data is the host's until `complete` runs.
    let status =
        unsafe { host_fn!(core.api(), outbound_send)(core.ctx, &out, Some(complete), user_data as *mut c_void, &mut id) };
    if status == sys::KERBERUS_OK {
        return Some(id);
    }
    // SAFETY: refused, so the host never calls `complete`: the call is ours.
    let call = unsafe { Box::from_raw(user_data) };
    let why = match status {
        sys::KERBERUS_ERR_INVALID => "the host refused the request (bad method, URL or header)",
        sys::KERBERUS_ERR_STATE => "the plugin is not running (before init or after stop)",
        _ => "the host refused the request",
    };
    refuse(*call, &request.method, status, why)
}

fn refuse(call: FetchCall, method: &str, status: sys::kerberus_status, why: &str) -> Option<u64> {
    let code = ErrorCode::from_status(status).unwrap_or(ErrorCode::Other(status));
    call.core.log(sys::KERBERUS_LOG_ERROR, &format!("fetch {}: {} ({})", method, why, code));
    let response =
        OutboundResponse { result: Err(code), status: 0, headers: Vec::new(), body: &[], error: Cow::Borrowed(why) };
    call.run(&response);
    None
}

/// The kerberus_outbound_done_fn of every fetch; `user_data` is a FetchCall
/// it takes over.
unsafe extern "C" fn complete(user_data: *mut c_void, raw: *const sys::kerberus_outbound_response) {
    shared::boundary((), || {
        let call = Box::from_raw(user_data as *mut FetchCall);
        // Every field read here belongs to the struct's first version, so
        // any host's struct_size covers them.
        let raw = &*raw;
        let headers = if raw.headers.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(raw.headers, raw.header_count)
                .iter()
                .map(|h| (shared::bytes(h.name), shared::bytes(h.value)))
                .collect()
        };
        let response = OutboundResponse {
            result: ErrorCode::check(raw.result),
            status: u16::try_from(raw.status).unwrap_or(0),
            headers,
            body: shared::bytes(raw.body),
            error: if raw.error.is_null() { Cow::Borrowed("") } else { CStr::from_ptr(raw.error).to_string_lossy() },
        };
        call.run(&response);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_whole_milliseconds_rounded_up_and_saturated() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_nanos(1)), 1);
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert_eq!(millis(Duration::from_micros(1500)), 2);
        assert_eq!(millis(Duration::from_secs(u64::MAX)), u32::MAX);
    }

    #[test]
    fn response_headers_are_found_case_insensitively() {
        let response = OutboundResponse {
            result: Ok(()),
            status: 200,
            headers: vec![(&b"Content-Type"[..], &b"text/plain"[..]), (&b"X-A"[..], &b"1"[..]), (&b"x-a"[..], &b"2"[..])],
            body: b"hi",
            error: Cow::Borrowed(""),
        };
        assert_eq!(response.header("x-A"), Some(&b"1"[..]));
        assert_eq!(response.header("content-type"), Some(&b"text/plain"[..]));
        assert_eq!(response.header("missing"), None);
        assert_eq!(response.body_str(), "hi");
    }
}
