use std::borrow::Cow;
use std::fmt;
use std::os::raw::c_int;
use std::ptr;
use std::sync::Arc;

use crate::shared::{self, host_fn, Core};
use crate::error::ErrorCode;
use crate::stream::{ResponseStream, StreamEvent};
use crate::sys;

type Getter = unsafe extern "C" fn(*mut sys::kerberus_request, *mut sys::kerberus_str) -> sys::kerberus_status;
type Finder =
    unsafe extern "C" fn(*mut sys::kerberus_request, *const std::os::raw::c_char, *mut sys::kerberus_str) -> sys::kerberus_status;
type Visitor =
    unsafe extern "C" fn(*mut sys::kerberus_request, sys::kerberus_visit_fn, *mut std::ffi::c_void) -> sys::kerberus_status;

/// Who called a route (see `caller()` on requests): ABI 1.6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller<'r> {
    /// The caller's name: an `auth.externalAccess` entry's subject, or a JWT's `sub`.
    pub subject: Cow<'r, str>,
    /// How it proved it: `"static"`, `"legacy"` or `"jwks"`.
    pub token_type: Cow<'r, str>,
}

/// A request this object may still use: neither given away, nor answered,
/// nor freed by the host after stop.
#[derive(Clone, Copy)]
struct Live<'c> {
    core: &'c Core,
    raw: *mut sys::kerberus_request,
}

impl<'c> Live<'c> {
    fn of(core: &'c Core, raw: *mut sys::kerberus_request) -> Option<Live<'c>> {
        if raw.is_null() || core.stopped() {
            None
        } else {
            Some(Live { core, raw })
        }
    }

    /// # Safety
    /// The view is valid as long as the request: the caller bounds `'v` by
    /// a borrow of the object that owns the request.
    unsafe fn get<'v>(self, pick: fn(&sys::kerberus_host_api) -> Option<Getter>) -> &'v [u8] {
        let f = match pick(self.core.api()) {
            Some(f) => f,
            None => return &[],
        };
        let mut out = shared::EMPTY;
        if f(self.raw, &mut out) == sys::KERBERUS_OK {
            shared::bytes(out)
        } else {
            &[]
        }
    }

    /// # Safety
    /// As `get`.
    unsafe fn find<'v>(self, pick: fn(&sys::kerberus_host_api) -> Option<Finder>, name: &str) -> Option<&'v [u8]> {
        let f = pick(self.core.api())?;
        let mut out = shared::EMPTY;
        let status = shared::with_c_str(name, |name| f(self.raw, name, &mut out))?;
        if status == sys::KERBERUS_OK {
            Some(shared::bytes(out))
        } else {
            None
        }
    }

    fn each(self, pick: fn(&sys::kerberus_host_api) -> Option<Visitor>, visit: &mut dyn FnMut(&[u8], &[u8])) {
        let f = match pick(self.core.api()) {
            Some(f) => f,
            None => return,
        };
        let mut state = shared::Visit { visit, panic: None };
        // SAFETY: the trampoline gets `state` back as user_data during the
        // call only.
        unsafe { f(self.raw, Some(shared::visit_trampoline), &mut state as *mut shared::Visit<'_> as *mut _) };
        if let Some(payload) = state.panic {
            std::panic::resume_unwind(payload);
        }
    }

    fn add_header(self, name: &str, value: &[u8]) -> Result<(), ErrorCode> {
        let f = host_fn!(self.core.api(), response_header_add);
        // SAFETY: name is NUL-terminated for the call, value a live slice.
        let status = shared::with_c_str(name, |name| unsafe { f(self.raw, name, shared::data_of(value), value.len()) });
        ErrorCode::check(status.unwrap_or(sys::KERBERUS_ERR_INVALID))
    }

    fn respond(self, status: u16, body: &[u8]) -> Result<(), ErrorCode> {
        // SAFETY: the host copies the body before it returns.
        ErrorCode::check(unsafe {
            host_fn!(self.core.api(), respond)(self.raw, c_int::from(status), shared::data_of(body), body.len())
        })
    }

    fn respond_error(self, status: u16, message: &[u8]) -> Result<(), ErrorCode> {
        // SAFETY: as respond.
        ErrorCode::check(unsafe {
            host_fn!(self.core.api(), respond_error)(self.raw, c_int::from(status), shared::data_of(message), message.len())
        })
    }
}

/// Read access shared by [`Request`] and [`PendingRequest`]. Every view
/// borrows the object it was read from, so it cannot outlive the request:
/// copy what you keep longer. Views are empty (`None`) once the request is
/// no longer the object's to read.
macro_rules! request_reader {
    () => {
        /// "GET", "POST", ...
        pub fn method(&self) -> Cow<'_, str> {
            shared::text(self.bytes_of(|api| api.request_method))
        }

        /// The path below the plugin's prefix, percent-decoded and
        /// normalised, always starting with '/': "/world" for
        /// `GET /api/<id>/world`. Ill-formed UTF-8 (from `%FF` and the like)
        /// reads as U+FFFD; [`path_bytes`](Self::path_bytes) has the bytes.
        pub fn path(&self) -> Cow<'_, str> {
            shared::text(self.path_bytes())
        }

        /// The decoded path as bytes.
        pub fn path_bytes(&self) -> &[u8] {
            self.bytes_of(|api| api.request_path)
        }

        /// The full path as the client sent it (still percent-encoded),
        /// without the query: "/api/hello/w%20x".
        pub fn raw_path(&self) -> Cow<'_, str> {
            shared::text(self.bytes_of(|api| api.request_raw_path))
        }

        /// A route parameter (":name" without the colon, or "*"), decoded.
        pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
            self.param_bytes(name).map(shared::text)
        }

        /// A route parameter as bytes.
        pub fn param_bytes(&self, name: &str) -> Option<&[u8]> {
            self.find_of(|api| api.request_param, name)
        }

        /// The query string without '?', as received ("" when none).
        pub fn query(&self) -> Cow<'_, str> {
            shared::text(self.bytes_of(|api| api.request_query))
        }

        /// The first value of a query parameter, percent-decoded ("+" is a
        /// space).
        pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
            self.query_param_bytes(name).map(shared::text)
        }

        /// A query parameter's first value as bytes.
        pub fn query_param_bytes(&self, name: &str) -> Option<&[u8]> {
            self.find_of(|api| api.request_query_param, name)
        }

        /// Calls `visit(name, value)` for each decoded query parameter, in
        /// request order; the slices are valid during the call only. A panic
        /// in `visit` stops the iteration and resumes once the host has
        /// returned.
        pub fn for_each_query_param(&self, mut visit: impl FnMut(&[u8], &[u8])) {
            if let Some(live) = self.live() {
                live.each(|api| api.request_query_visit, &mut visit);
            }
        }

        /// Every decoded query parameter, in request order, copied.
        pub fn query_params(&self) -> Vec<(String, String)> {
            let mut all = Vec::new();
            self.for_each_query_param(|n, v| all.push((shared::text(n).into_owned(), shared::text(v).into_owned())));
            all
        }

        /// A request header by case-insensitive name (the first one when
        /// the name repeats).
        pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
            self.header_bytes(name).map(shared::text)
        }

        /// A request header's value as bytes.
        pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
            self.find_of(|api| api.request_header, name)
        }

        /// Calls `visit(name, value)` for each request header in the order
        /// received (repeated names repeat); as
        /// [`for_each_query_param`](Self::for_each_query_param).
        pub fn for_each_header(&self, mut visit: impl FnMut(&[u8], &[u8])) {
            if let Some(live) = self.live() {
                live.each(|api| api.request_header_visit, &mut visit);
            }
        }

        /// Every request header, in the order received, copied.
        pub fn headers(&self) -> Vec<(String, String)> {
            let mut all = Vec::new();
            self.for_each_header(|n, v| all.push((shared::text(n).into_owned(), shared::text(v).into_owned())));
            all
        }

        /// The complete request body (possibly empty; chunked bodies arrive
        /// de-chunked).
        pub fn body(&self) -> &[u8] {
            self.bytes_of(|api| api.request_body)
        }

        /// The body as text (ill-formed UTF-8 reads as U+FFFD).
        pub fn body_str(&self) -> Cow<'_, str> {
            shared::text(self.body())
        }

        /// The client's address as text ("127.0.0.1").
        pub fn remote_address(&self) -> Cow<'_, str> {
            shared::text(self.bytes_of(|api| api.request_remote_address))
        }

        /// The request's id: the client's X-Request-Id when well-formed,
        /// else one the daemon made. Send it on to upstreams to follow one
        /// request across services.
        pub fn request_id(&self) -> Cow<'_, str> {
            shared::text(self.bytes_of(|api| api.request_id))
        }

        /// Who called (ABI 1.6): the subject of the token the daemon
        /// verified (the operator's `subject` for a static or legacy
        /// token, a JWT's `sub` for a jwks one) and its kind (`"static"`,
        /// `"legacy"`, `"jwks"`). `None` when the request carried no
        /// credentials that verified: a public route, or the default auth
        /// policy disabled.
        pub fn caller(&self) -> Option<Caller<'_>> {
            let live = self.live()?;
            let f = live.core.api().request_caller?;
            let (mut subject, mut kind) = (shared::EMPTY, shared::EMPTY);
            // SAFETY: a live request and two out-parameters; the views live
            // as long as the request, which outlives this borrow of self.
            if unsafe { f(live.raw, &mut subject, &mut kind) } != sys::KERBERUS_OK {
                return None;
            }
            let (subject, kind) = unsafe { (shared::bytes(subject), shared::bytes(kind)) };
            Some(Caller { subject: shared::text(subject), token_type: shared::text(kind) })
        }

        /// The C handle, for host functions the crate does not wrap; null
        /// once this object may no longer use it. Answering through it
        /// bypasses the crate's bookkeeping: don't.
        pub fn raw(&self) -> *mut sys::kerberus_request {
            self.live().map_or(ptr::null_mut(), |live| live.raw)
        }

        fn bytes_of(&self, pick: fn(&sys::kerberus_host_api) -> Option<Getter>) -> &[u8] {
            match self.live() {
                // SAFETY: the view lives as long as the request, which
                // outlives this borrow of self.
                Some(live) => unsafe { live.get(pick) },
                None => &[],
            }
        }

        fn find_of(&self, pick: fn(&sys::kerberus_host_api) -> Option<Finder>, name: &str) -> Option<&[u8]> {
            // SAFETY: as bytes_of.
            self.live().and_then(|live| unsafe { live.find(pick, name) })
        }
    };
}

/// The request a handler is called with, valid during that call. Answer
/// it with [`respond`](Request::respond) (or `respond_json`,
/// `respond_error`) before the handler returns, or [`keep`](Request::keep)
/// it and answer later from any thread. Returning without either is a bug:
/// the host answers 500 and logs it.
///
/// A handler may return `()` or a `Result<(), E: Display>`; an `Err`, like a
/// panic, is logged at ERROR with the method and path, and the host answers
/// 500 if the request was not answered.
pub struct Request<'a> {
    core: &'a Arc<Core>,
    raw: *mut sys::kerberus_request,
    responded: bool,
    kept: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn new(core: &'a Arc<Core>, raw: *mut sys::kerberus_request) -> Request<'a> {
        Request { core, raw, responded: false, kept: false }
    }

    fn live(&self) -> Option<Live<'_>> {
        Live::of(self.core, self.raw)
    }

    request_reader!();

    /// Adds a response header; call before responding. Several calls with
    /// one name send several lines. Content-Length, Connection and
    /// Transfer-Encoding are the host's, and names or values with CR or LF
    /// are refused: `Err(ErrorCode::Invalid)`.
    pub fn add_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        self.live().ok_or(ErrorCode::State)?.add_header(name, value.as_ref())
    }

    /// Sends the response: status 200..599, the headers added so far and
    /// `body` (copied; at most 64 MiB; "text/plain; charset=utf-8" unless a
    /// Content-Type was added). `Invalid` (bad status) and `TooLarge` send
    /// nothing: respond again. `State` means the request was answered
    /// already; the first answer stands.
    pub fn respond(&mut self, status: u16, body: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        let result = self.live().ok_or(ErrorCode::State)?.respond(status, body.as_ref());
        self.settle(result)
    }

    /// [`respond`](Request::respond) with "Content-Type: application/json".
    /// The body is sent as given: build strings in it with
    /// [`json::string`](crate::json::string).
    pub fn respond_json(&mut self, status: u16, json: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        self.add_header("Content-Type", "application/json")?;
        self.respond(status, json)
    }

    /// Answers 400..599 with the daemon's own JSON error body (the one its
    /// 404s and 503s carry), `message` inside it properly escaped. Headers
    /// added so far are sent too; otherwise as [`respond`](Request::respond).
    pub fn respond_error(&mut self, status: u16, message: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        let result = self.live().ok_or(ErrorCode::State)?.respond_error(status, message.as_ref());
        self.settle(result)
    }

    /// Starts a streamed response (ABI 1.4; see [`ResponseStream`]): sends
    /// the status line (200..599) and the headers added so far. With
    /// `content_length` the writes must give exactly that many bytes;
    /// `None` means unknown: chunked for HTTP/1.1 clients, ended by the
    /// close for HTTP/1.0 ones. No Content-Type is added: add one first.
    /// `on_event` hears [`StreamEvent::Writable`] and
    /// [`StreamEvent::Closed`] on a worker thread of the host's (a panic in
    /// it is caught and logged at ERROR); it is dropped once the stream is
    /// over.
    ///
    /// The request moves into the stream, which may outlive the handler and
    /// go to another thread: the handler returns, and the host waits for
    /// the stream. From here on this `Request` is empty, as after
    /// [`keep`](Request::keep). `Err(Invalid)` (bad status, or a length
    /// past `i64::MAX`) sends nothing and leaves the request to answer;
    /// `Err(State)` when it was answered, kept or streamed already.
    pub fn stream(
        &mut self,
        status: u16,
        content_length: Option<u64>,
        on_event: Option<Box<dyn FnMut(StreamEvent) + Send>>,
    ) -> Result<ResponseStream, ErrorCode> {
        if self.kept || self.responded {
            return Err(ErrorCode::State);
        }
        let live = self.live().ok_or(ErrorCode::State)?;
        let stream = ResponseStream::start(self.core, live.raw, status, content_length, on_event)?;
        // The handler returns KERBERUS_ASYNC: the stream answers, now or
        // later.
        self.kept = true;
        self.raw = ptr::null_mut();
        Ok(stream)
    }

    /// Takes the request out of the handler, which then returns without
    /// answering: the [`PendingRequest`] answers later, from any thread.
    /// From here on this `Request` is empty (reads are empty, answers
    /// return `State`).
    ///
    /// # Panics
    /// When the request was answered or kept already: a bug, reported like
    /// any panic in a handler.
    pub fn keep(&mut self) -> PendingRequest {
        assert!(!self.kept, "kerberus_plugin::Request::keep() called twice");
        assert!(!self.responded, "kerberus_plugin::Request::keep() after respond()");
        self.kept = true;
        PendingRequest { core: Arc::clone(self.core), raw: std::mem::replace(&mut self.raw, ptr::null_mut()) }
    }

    /// Whether the request has been answered (by this handler, or before).
    pub fn responded(&self) -> bool {
        self.responded
    }

    pub(crate) fn kept(&self) -> bool {
        self.kept
    }

    // Answered before (STATE, EXPIRED) is still answered.
    fn settle(&mut self, result: Result<(), ErrorCode>) -> Result<(), ErrorCode> {
        if matches!(result, Ok(()) | Err(ErrorCode::State) | Err(ErrorCode::Expired)) {
            self.responded = true;
        }
        result
    }

    /// Logs why the handler did not finish: "<method> <path>: handler
    /// panicked: <message>".
    pub(crate) fn log_failure(&self, how: &str, what: &str) {
        let line = if self.kept {
            format!("handler {} after keep(): {}", how, what)
        } else {
            format!("{} {}: handler {}: {}", self.method(), self.path(), how, what)
        };
        self.core.log(sys::KERBERUS_LOG_ERROR, &line);
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method())
            .field("path", &self.path())
            .field("responded", &self.responded)
            .field("kept", &self.kept)
            .finish()
    }
}

/// The right to answer a kept request, from any thread (`Send`, one thread
/// at a time). Made by [`Request::keep`].
///
/// - Answer exactly once. Afterwards every call returns
///   `Err(ErrorCode::State)`: the host has freed the request, so a second
///   answer never reaches it. `Invalid` (bad status) and `TooLarge` send
///   nothing and leave it answerable.
/// - Dropped unanswered, it answers 500 itself and logs an ERROR naming the
///   request: a forgotten request fails at once instead of hanging its
///   client until the host's deadline 504.
/// - Once the plugin's [`stop`](crate::Plugin::stop) has returned, the host
///   has answered 503 and freed it: calls return `Err(ErrorCode::Expired)`,
///   reads are empty and dropping it is silent. Answer or drop kept
///   requests inside `stop`, and join every thread that holds one there.
/// - A request the host answered itself (its `server.request_timeout`
///   deadline passed) returns `Expired` from the answer that comes too
///   late.
pub struct PendingRequest {
    core: Arc<Core>,
    // Null once answered: the host frees a kept request as respond returns.
    raw: *mut sys::kerberus_request,
}

// SAFETY: plugin.h lets a kept request be answered from any thread, and
// read from one thread at a time, which `&mut self` and the lack of Sync
// ensure.
unsafe impl Send for PendingRequest {}

impl PendingRequest {
    fn live(&self) -> Option<Live<'_>> {
        Live::of(&self.core, self.raw)
    }

    /// True while it holds a request nobody has answered.
    pub fn is_pending(&self) -> bool {
        self.live().is_some()
    }

    request_reader!();

    /// Adds a response header; as [`Request::add_header`].
    pub fn add_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        self.live().ok_or_else(|| self.gone())?.add_header(name, value.as_ref())
    }

    /// Sends the response and gives the request back to the host; as
    /// [`Request::respond`].
    pub fn respond(&mut self, status: u16, body: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        let result = match self.live() {
            Some(live) => live.respond(status, body.as_ref()),
            None => Err(self.gone()),
        };
        self.settle(result)
    }

    /// [`respond`](PendingRequest::respond) with
    /// "Content-Type: application/json".
    pub fn respond_json(&mut self, status: u16, json: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        if self.is_pending() {
            self.add_header("Content-Type", "application/json")?;
        }
        self.respond(status, json)
    }

    /// Answers with the daemon's JSON error body; as
    /// [`Request::respond_error`].
    pub fn respond_error(&mut self, status: u16, message: impl AsRef<[u8]>) -> Result<(), ErrorCode> {
        let result = match self.live() {
            Some(live) => live.respond_error(status, message.as_ref()),
            None => Err(self.gone()),
        };
        self.settle(result)
    }

    /// Starts a streamed response from any thread; as [`Request::stream`].
    /// The request moves into the stream: afterwards this object is empty
    /// (calls return `State`, dropping it is silent). When the host refuses
    /// (`Invalid`; `Expired` when it answered 504 already), the request
    /// stays this object's to answer.
    pub fn stream(
        &mut self,
        status: u16,
        content_length: Option<u64>,
        on_event: Option<Box<dyn FnMut(StreamEvent) + Send>>,
    ) -> Result<ResponseStream, ErrorCode> {
        let live = self.live().ok_or_else(|| self.gone())?;
        let stream = ResponseStream::start(&self.core, live.raw, status, content_length, on_event)?;
        self.raw = ptr::null_mut();
        Ok(stream)
    }

    fn gone(&self) -> ErrorCode {
        if self.raw.is_null() {
            ErrorCode::State
        } else {
            ErrorCode::Expired
        }
    }

    // A bad status or an oversized body sent nothing: the request is still
    // this object's. Anything else gave it back to the host.
    fn settle(&mut self, result: Result<(), ErrorCode>) -> Result<(), ErrorCode> {
        if !matches!(result, Err(ErrorCode::Invalid) | Err(ErrorCode::TooLarge)) {
            self.raw = ptr::null_mut();
        }
        result
    }
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        if self.is_pending() {
            let line = format!(
                "{} {}: request kept but dropped without an answer; answering 500",
                self.method(),
                self.path()
            );
            self.core.log(sys::KERBERUS_LOG_ERROR, &line);
            let _ = self.respond_error(500, "the plugin dropped this request without answering it");
        }
    }
}

impl fmt::Debug for PendingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingRequest")
            .field("method", &self.method())
            .field("path", &self.path())
            .field("pending", &self.is_pending())
            .finish()
    }
}
