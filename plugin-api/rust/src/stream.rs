//! Streamed responses (ABI 1.4): plugin.h's response_start, response_write
//! and response_end, with their event callback.
use std::cell::UnsafeCell;
use std::fmt;
use std::os::raw::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::ErrorCode;
use crate::shared::{self, host_fn, Core, Deferred};
use crate::sys;

/// What the host tells a stream's event closure (plugin.h:
/// `KERBERUS_STREAM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamEvent {
    /// `KERBERUS_STREAM_WRITABLE`: after a write that returned
    /// [`Written::Busy`], the client caught up: write again.
    Writable,
    /// `KERBERUS_STREAM_CLOSED`: the client's connection is gone. Writes
    /// return `Err(ErrorCode::Closed)`; end the stream and stop producing.
    /// A client that left is noticed as its connection is written to: a
    /// stream that sends nothing for a while hears of it late.
    Closed,
}

impl StreamEvent {
    fn from_raw(event: c_int) -> Option<StreamEvent> {
        match event {
            sys::KERBERUS_STREAM_WRITABLE => Some(StreamEvent::Writable),
            sys::KERBERUS_STREAM_CLOSED => Some(StreamEvent::Closed),
            _ => None,
        }
    }
}

/// How a [`ResponseStream::write`] went. Either way the bytes were taken
/// (copied by the host).
#[must_use = "after Written::Busy, wait for StreamEvent::Writable before the next write"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Written {
    /// `KERBERUS_OK`: write on.
    Taken,
    /// `KERBERUS_BUSY`: more than 256 KiB wait for a slow client. Wait for
    /// [`StreamEvent::Writable`] (or [`StreamEvent::Closed`]) before the
    /// next write; a writer that carries on is refused with
    /// `Err(ErrorCode::TooLarge)` once 8 MiB wait.
    Busy,
}

/// The event closure a stream is started with.
pub(crate) type OnEvent = Box<dyn FnMut(StreamEvent) + Send>;

/// A stream's event closure, handed to the host as user_data. It is freed
/// once the host can no longer call it: after response_end returned (after
/// the closure returned, when the closure itself ended the stream), or at
/// destroy for a stream cut off at stop.
struct EventSlot {
    core: Arc<Core>,
    // Called by the host only, one call at a time (plugin.h), and touched by
    // nothing else until it is freed.
    on_event: UnsafeCell<OnEvent>,
    /// The closure is running: set and cleared by `deliver`.
    running: AtomicBool,
    /// The stream ended inside the closure: `deliver` frees the slot once
    /// the closure has returned.
    free_after: AtomicBool,
}

unsafe fn free_slot(slot: *mut c_void) {
    shared::drop_quietly(Box::from_raw(slot as *mut EventSlot));
}

/// The kerberus_stream_event_fn of every stream with a closure; `user_data`
/// is its EventSlot. Only fields are reached through the pointer, never the
/// whole slot, since the closure may end its own stream while it runs.
unsafe extern "C" fn deliver(user_data: *mut c_void, _req: *mut sys::kerberus_request, event: c_int) {
    shared::boundary((), || {
        let slot = user_data as *mut EventSlot;
        let event = match StreamEvent::from_raw(event) {
            Some(event) => event,
            None => return, // from a newer host; nothing to tell
        };
        (*slot).running.store(true, Ordering::Release);
        let outcome = shared::catch(|| (*(*slot).on_event.get())(event));
        if let Err(message) = outcome {
            (*slot).core.log(sys::KERBERUS_LOG_ERROR, &format!("stream event handler panicked: {}", message));
        }
        (*slot).running.store(false, Ordering::Release);
        if (*slot).free_after.load(Ordering::Acquire) {
            free_slot(slot as *mut c_void);
        }
    })
}

/// A response sent as it is produced (plugin.h "Streamed responses", ABI
/// 1.4): a download larger than memory, a relayed upstream body,
/// Server-Sent Events. Made by [`Request::stream`](crate::Request::stream)
/// or [`PendingRequest::stream`](crate::PendingRequest::stream), which send
/// the status line and the headers added so far.
///
/// - Ownership: it owns the request until it ends; [`end`](Self::end) and
///   [`abort`](Self::abort) take it by value, and dropping it ends it too
///   (cut short, if a stated length was not reached), or cuts it off when
///   the thread is panicking, so that a half-made answer never looks
///   complete. Nothing can use the request afterwards.
/// - Threads: `Send`, so it may move to the thread that produces the
///   content; its methods take `&mut self`, so one thread uses it at a
///   time. The event closure runs on a worker thread of the host's,
///   whatever thread writes: share state with it through a channel, an
///   atomic or a lock, and never let it wait for the writing thread (`end`
///   waits for a closure that is running on another thread, so don't end
///   the stream while holding a lock the closure takes).
/// - Errors: writes return `Err(ErrorCode::Closed)` once the client has
///   left (`Closed` is also an event): end the stream and stop producing.
///   `Invalid`: more bytes than the stated length, or content for a 204,
///   205 or 304 (nothing taken). `TooLarge`: 8 MiB wait for the client
///   (a writer that ignored [`Written::Busy`]).
/// - A started stream has no deadline: it lasts until it ends, the client
///   leaves, or the plugin stops. When [`stop`](crate::Plugin::stop) has
///   returned, the host has cut the stream off (the client sees it
///   incomplete) and freed the request: calls return
///   `Err(ErrorCode::Expired)` and touch nothing, and dropping it is
///   silent. End streams, and join the threads that write them, inside
///   `stop`.
///
/// Counting from a thread of the plugin's, with an unknown length
/// (chunked), waiting for the client whenever it is slow:
///
/// ```no_run
/// use std::sync::mpsc;
/// use std::thread;
///
/// use kerberus_plugin::{Error, Host, StreamEvent, Written};
///
/// fn routes(host: &Host) -> Result<(), Error> {
///     host.route("GET", "/count", |req| {
///         let mut pending = req.keep();
///         // A real plugin keeps the handle and joins the thread in stop.
///         thread::spawn(move || {
///             let (events, next_event) = mpsc::channel();
///             let on_event = Box::new(move |event| {
///                 let _ = events.send(event);
///             });
///             let mut stream = match pending.stream(200, None, Some(on_event)) {
///                 Ok(stream) => stream,
///                 Err(_) => return, // `pending` answers 500 as it drops
///             };
///             for i in 0..1000 {
///                 match stream.write(format!("{}\n", i)) {
///                     Ok(Written::Taken) => {}
///                     Ok(Written::Busy) if next_event.recv() == Ok(StreamEvent::Writable) => {}
///                     _ => break, // the client left
///                 }
///             }
///             let _ = stream.end();
///         });
///     })?;
///     Ok(())
/// }
/// ```
pub struct ResponseStream {
    core: Arc<Core>,
    // Null once ended (as `end` and then drop both run `finish`).
    raw: *mut sys::kerberus_request,
    // Null without an event closure, and once ended.
    events: *mut EventSlot,
}

// SAFETY: plugin.h lets a stream be written and ended from any thread, one
// call at a time, which `&mut self` and the lack of Sync ensure; the event
// closure it owns is Send.
unsafe impl Send for ResponseStream {}

impl ResponseStream {
    /// response_start on `raw`, which the caller gives up on success.
    pub(crate) fn start(
        core: &Arc<Core>,
        raw: *mut sys::kerberus_request,
        status: u16,
        content_length: Option<u64>,
        on_event: Option<OnEvent>,
    ) -> Result<ResponseStream, ErrorCode> {
        let length = match content_length {
            None => -1,
            Some(length) => i64::try_from(length).map_err(|_| ErrorCode::Invalid)?,
        };
        let events = on_event.map_or(ptr::null_mut(), |on_event| {
            Box::into_raw(Box::new(EventSlot {
                core: Arc::clone(core),
                on_event: UnsafeCell::new(on_event),
                running: AtomicBool::new(false),
                free_after: AtomicBool::new(false),
            }))
        });
        let callback: sys::kerberus_stream_event_fn = if events.is_null() { None } else { Some(deliver) };
        let started = core.while_running(|| {
            // SAFETY: the slot stays allocated until the host can no longer
            // call `deliver` with it (see EventSlot).
            unsafe { host_fn!(core.api(), response_start)(raw, c_int::from(status), length, callback, events as *mut c_void) }
        });
        match ErrorCode::check(started.unwrap_or(sys::KERBERUS_ERR_EXPIRED)) {
            Ok(()) => Ok(ResponseStream { core: Arc::clone(core), raw, events }),
            Err(code) => {
                if !events.is_null() {
                    // SAFETY: refused, so the host never saw the slot.
                    unsafe { free_slot(events as *mut c_void) };
                }
                Err(code)
            }
        }
    }

    /// Sends `data` (copied before the call returns). `Ok(Written::Busy)`
    /// asks the writer to wait for [`StreamEvent::Writable`]; see the type
    /// for the errors. For a HEAD request the bytes are taken and dropped.
    pub fn write(&mut self, data: impl AsRef<[u8]>) -> Result<Written, ErrorCode> {
        if self.raw.is_null() {
            return Err(ErrorCode::State);
        }
        let (raw, data) = (self.raw, data.as_ref());
        let status = self.core.while_running(|| {
            // SAFETY: the request is this stream's until finish; the host
            // copies the data.
            unsafe { host_fn!(self.core.api(), response_write)(raw, shared::data_of(data), data.len()) }
        });
        match status.unwrap_or(sys::KERBERUS_ERR_EXPIRED) {
            sys::KERBERUS_BUSY => Ok(Written::Busy),
            status => ErrorCode::check(status).map(|()| Written::Taken),
        }
    }

    /// Finishes the response: the last chunk, or nothing more for a stated
    /// length. `Err(ErrorCode::Invalid)` when fewer bytes than the stated
    /// length were written: the connection was closed instead, and the
    /// client sees the answer cut short. `Err(ErrorCode::Expired)` after
    /// stop (the host cut the stream off). Whatever it returns, the stream
    /// is over, and its event closure never runs again.
    pub fn end(mut self) -> Result<(), ErrorCode> {
        self.finish(false)
    }

    /// Cuts the response off (plugin.h response_abort): the connection
    /// closes without the rest of the content (and without the last
    /// chunk), so the client sees the answer incomplete. For a source that
    /// failed midway, such as an upstream that broke off.
    /// `Err(ErrorCode::Expired)` after stop. As after [`end`](Self::end),
    /// the stream is over and its event closure never runs again.
    pub fn abort(mut self) -> Result<(), ErrorCode> {
        self.finish(true)
    }

    fn finish(&mut self, abort: bool) -> Result<(), ErrorCode> {
        let raw = std::mem::replace(&mut self.raw, ptr::null_mut());
        let events = std::mem::replace(&mut self.events, ptr::null_mut());
        if raw.is_null() {
            return Err(ErrorCode::State);
        }
        let api = self.core.api();
        let ended = self.core.while_running(|| {
            // SAFETY: the request is this stream's; afterwards it is gone
            // (after either call).
            unsafe {
                if abort {
                    host_fn!(api, response_abort)(raw)
                } else {
                    host_fn!(api, response_end)(raw)
                }
            }
        });
        match ended {
            Some(status) => {
                // SAFETY: no callback starts after response_end (or
                // response_abort) returned, and one on another thread has
                // finished (the call waited for it).
                unsafe { release(events) };
                ErrorCode::check(status)
            }
            None => {
                // Stopped: the host still delivers events until it has
                // forgotten the plugin's streams, which is before destroy.
                if !events.is_null() {
                    self.core.defer_free(Deferred { ptr: events as *mut c_void, free: free_slot });
                }
                Err(ErrorCode::Expired)
            }
        }
    }
}

/// Frees a slot after response_end returned: now, or, when the closure
/// itself ended the stream and is still running on this thread, as it
/// returns.
///
/// # Safety
/// `events` is null or a slot the host will no longer call.
unsafe fn release(events: *mut EventSlot) {
    if events.is_null() {
        return;
    }
    if (*events).running.load(Ordering::Acquire) {
        (*events).free_after.store(true, Ordering::Release);
    } else {
        free_slot(events as *mut c_void);
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            let _ = self.finish(std::thread::panicking());
        }
    }
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream").field("on_event", &!self.events.is_null()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::raw::c_char;
    use std::sync::atomic::AtomicBool;
    use std::sync::{Barrier, Mutex};
    use std::thread;
    use std::time::Duration;

    /// One request as a fake host sees it; `req` points to it.
    struct Fake {
        started: Option<(c_int, i64)>,
        callback: sys::kerberus_stream_event_fn,
        user_data: *mut c_void,
        body: Vec<u8>,
        ended: bool,
        aborted: bool,
        write_status: sys::kerberus_status,
        /// Writes wait here twice: as they begin, and to end.
        write_gate: Option<Arc<Barrier>>,
    }

    unsafe fn fake<'a>(req: *mut sys::kerberus_request) -> &'a mut Fake {
        &mut *(req as *mut Fake)
    }

    unsafe extern "C" fn start(
        req: *mut sys::kerberus_request,
        status: c_int,
        length: i64,
        callback: sys::kerberus_stream_event_fn,
        user_data: *mut c_void,
    ) -> sys::kerberus_status {
        if !(200..=599).contains(&status) {
            return sys::KERBERUS_ERR_INVALID;
        }
        let f = fake(req);
        f.started = Some((status, length));
        f.callback = callback;
        f.user_data = user_data;
        sys::KERBERUS_OK
    }

    unsafe extern "C" fn write(req: *mut sys::kerberus_request, data: *const c_char, len: usize) -> sys::kerberus_status {
        let f = fake(req);
        if let Some(gate) = f.write_gate.clone() {
            gate.wait();
            gate.wait();
        }
        f.body.extend_from_slice(std::slice::from_raw_parts(data as *const u8, len));
        f.write_status
    }

    unsafe extern "C" fn end(req: *mut sys::kerberus_request) -> sys::kerberus_status {
        fake(req).ended = true;
        sys::KERBERUS_OK
    }

    unsafe extern "C" fn abort(req: *mut sys::kerberus_request) -> sys::kerberus_status {
        fake(req).aborted = true;
        sys::KERBERUS_OK
    }

    /// ctx is the log: a Mutex<Vec<String>>.
    unsafe extern "C" fn log(ctx: *mut sys::kerberus_plugin_ctx, _level: c_int, msg: *const c_char, len: usize) {
        let line = std::slice::from_raw_parts(msg as *const u8, len);
        (*(ctx as *const Mutex<Vec<String>>)).lock().unwrap().push(String::from_utf8_lossy(line).into_owned());
    }

    /// What the host's worker does: calls the closure, unless the stream
    /// ended (response_end returned).
    fn deliver_event(req: *mut sys::kerberus_request, event: c_int) {
        // SAFETY: the fake outlives the test's stream.
        let (callback, user_data, ended) = unsafe {
            let f = fake(req);
            (f.callback, f.user_data, f.ended)
        };
        if let (Some(callback), false) = (callback, ended) {
            unsafe { callback(user_data, req, event) };
        }
    }

    struct Host {
        _api: Box<sys::kerberus_host_api>,
        log: Box<Mutex<Vec<String>>>,
        core: Arc<Core>,
    }

    fn host() -> Host {
        // SAFETY: every field is an integer, a pointer or an Option of a
        // function, for which zero is valid (None, null).
        let mut api: Box<sys::kerberus_host_api> = Box::new(unsafe { std::mem::zeroed() });
        api.struct_size = std::mem::size_of::<sys::kerberus_host_api>();
        api.log = Some(log);
        api.response_start = Some(start);
        api.response_write = Some(write);
        api.response_end = Some(end);
        api.response_abort = Some(abort);
        let log = Box::new(Mutex::new(Vec::new()));
        let core = Arc::new(Core::new(&*api, &*log as *const Mutex<Vec<String>> as *mut sys::kerberus_plugin_ctx));
        Host { _api: api, log, core }
    }

    /// A fake request, reached through its pointer alone (as the host
    /// and the stream reach it).
    struct Request(*mut Fake);

    impl Request {
        fn new() -> Request {
            Request(Box::into_raw(Box::new(Fake {
                started: None,
                callback: None,
                user_data: ptr::null_mut(),
                body: Vec::new(),
                ended: false,
                aborted: false,
                write_status: sys::KERBERUS_OK,
                write_gate: None,
            })))
        }

        fn raw(&self) -> *mut sys::kerberus_request {
            self.0 as *mut sys::kerberus_request
        }

        // A test helper standing in for the host's own access to it.
        #[allow(clippy::mut_from_ref)]
        fn fake(&self) -> &mut Fake {
            // SAFETY: the tests are single-threaded, and no reference to the
            // fake outlives a statement.
            unsafe { &mut *self.0 }
        }
    }

    impl Drop for Request {
        fn drop(&mut self) {
            // SAFETY: made by Box::into_raw in new.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }

    /// A closure that records its events, and tells when it was dropped.
    fn recorder() -> (OnEvent, Arc<Mutex<Vec<StreamEvent>>>) {
        let seen: Arc<Mutex<Vec<StreamEvent>>> = Arc::default();
        let s = Arc::clone(&seen);
        (Box::new(move |event| s.lock().unwrap().push(event)), seen)
    }

    #[test]
    fn events_map_from_the_headers_values_and_unknown_ones_are_ignored() {
        assert_eq!(StreamEvent::from_raw(sys::KERBERUS_STREAM_WRITABLE), Some(StreamEvent::Writable));
        assert_eq!(StreamEvent::from_raw(sys::KERBERUS_STREAM_CLOSED), Some(StreamEvent::Closed));
        assert_eq!(StreamEvent::from_raw(0), None);
        assert_eq!(StreamEvent::from_raw(3), None);
    }

    #[test]
    fn writes_say_taken_or_busy_and_end_frees_the_closure() {
        let h = host();
        let f = Request::new();
        let req = f.raw();
        let (on_event, seen) = recorder();
        let mut stream = ResponseStream::start(&h.core, req, 200, None, Some(on_event)).unwrap();
        assert_eq!(f.fake().started, Some((200, -1)));
        assert_eq!(stream.write("line 0\n"), Ok(Written::Taken));
        f.fake().write_status = sys::KERBERUS_BUSY;
        assert_eq!(stream.write(b"line 1\n"), Ok(Written::Busy));
        deliver_event(req, sys::KERBERUS_STREAM_WRITABLE);
        deliver_event(req, 99);
        f.fake().write_status = sys::KERBERUS_ERR_CLOSED;
        assert_eq!(stream.write(""), Err(ErrorCode::Closed));
        deliver_event(req, sys::KERBERUS_STREAM_CLOSED);
        assert_eq!(*seen.lock().unwrap(), [StreamEvent::Writable, StreamEvent::Closed]);
        assert_eq!(stream.end(), Ok(()));
        assert!(f.fake().ended);
        assert_eq!(f.fake().body, b"line 0\nline 1\n");
        assert_eq!(Arc::strong_count(&seen), 1, "the closure is dropped once the stream ended");
        assert!(h.log.lock().unwrap().is_empty());
    }

    #[test]
    fn dropping_a_stream_ends_it_and_a_panic_cuts_it_off() {
        let h = host();
        let f = Request::new();
        let stream = ResponseStream::start(&h.core, f.raw(), 200, Some(5), None).unwrap();
        assert_eq!(f.fake().started, Some((200, 5)));
        drop(stream);
        assert!(f.fake().ended && !f.fake().aborted);

        let g = Request::new();
        let stream = ResponseStream::start(&h.core, g.raw(), 200, None, None).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _owned = stream;
            panic!("the producer failed");
        }));
        assert!(panicked.is_err());
        assert!(g.fake().aborted && !g.fake().ended, "a half-made answer must not look complete");
    }

    #[test]
    fn abort_cuts_the_stream_off_and_frees_the_closure() {
        let h = host();
        let f = Request::new();
        let (on_event, seen) = recorder();
        let stream = ResponseStream::start(&h.core, f.raw(), 200, None, Some(on_event)).unwrap();
        assert_eq!(stream.abort(), Ok(()));
        assert!(f.fake().aborted && !f.fake().ended);
        assert_eq!(Arc::strong_count(&seen), 1);
    }

    #[test]
    fn refused_starts_keep_nothing_and_lengths_past_i64_never_reach_the_host() {
        let h = host();
        let f = Request::new();
        let (on_event, seen) = recorder();
        assert_eq!(ResponseStream::start(&h.core, f.raw(), 99, None, Some(on_event)).err(), Some(ErrorCode::Invalid));
        assert_eq!(Arc::strong_count(&seen), 1);
        let (on_event, seen) = recorder();
        let too_long = ResponseStream::start(&h.core, f.raw(), 200, Some(u64::MAX), Some(on_event));
        assert_eq!(too_long.err(), Some(ErrorCode::Invalid));
        assert_eq!(f.fake().started, None);
        assert_eq!(Arc::strong_count(&seen), 1);
    }

    // The closure may own its stream (here through a shared slot) and end it
    // from inside: it must stay allocated until it returns, and a panic
    // after that is still caught and logged.
    #[test]
    fn a_closure_that_ends_its_own_stream_is_freed_as_it_returns() {
        let h = host();
        let f = Request::new();
        let req = f.raw();
        let slot: Arc<Mutex<Option<ResponseStream>>> = Arc::default();
        let (s, ended) = (Arc::clone(&slot), Arc::new(Mutex::new(None)));
        let e = Arc::clone(&ended);
        let on_event: OnEvent = Box::new(move |_| {
            let stream = s.lock().unwrap().take();
            *e.lock().unwrap() = stream.map(ResponseStream::end);
            panic!("event handler panicked on purpose");
        });
        *slot.lock().unwrap() = Some(ResponseStream::start(&h.core, req, 200, None, Some(on_event)).unwrap());
        deliver_event(req, sys::KERBERUS_STREAM_CLOSED);
        assert!(f.fake().ended);
        assert_eq!(*ended.lock().unwrap(), Some(Ok(())));
        assert_eq!(Arc::strong_count(&slot), 1, "the closure was freed after it returned");
        assert_eq!(*h.log.lock().unwrap(), ["stream event handler panicked: event handler panicked on purpose"]);
    }

    // After stop the host has freed the request: nothing reaches it, and
    // the closure (which the host may still call until it has forgotten the
    // plugin's streams) lives until destroy.
    #[test]
    fn after_stop_nothing_reaches_the_host_and_the_closure_waits_for_destroy() {
        let h = host();
        let f = Request::new();
        let (on_event, seen) = recorder();
        let mut stream = ResponseStream::start(&h.core, f.raw(), 200, None, Some(on_event)).unwrap();
        h.core.mark_stopped();
        assert_eq!(stream.write("late"), Err(ErrorCode::Expired));
        assert_eq!(stream.end(), Err(ErrorCode::Expired));
        assert!(f.fake().body.is_empty() && !f.fake().ended);
        assert_eq!(Arc::strong_count(&seen), 2);
        h.core.free_deferred();
        assert_eq!(Arc::strong_count(&seen), 1);
        let (on_event, _) = recorder();
        let g = Request::new();
        assert_eq!(ResponseStream::start(&h.core, g.raw(), 200, None, Some(on_event)).err(), Some(ErrorCode::Expired));
        assert_eq!(g.fake().started, None);
    }

    // A thread the plugin failed to join may be inside a write as stop
    // returns: stop waits for it, since the host frees the request next.
    #[test]
    fn stop_waits_for_a_stream_call_in_flight() {
        let h = host();
        let f = Request::new();
        let gate = Arc::new(Barrier::new(2));
        f.fake().write_gate = Some(Arc::clone(&gate));
        let mut stream = ResponseStream::start(&h.core, f.raw(), 200, None, None).unwrap();
        let writer = thread::spawn(move || {
            let written = stream.write("in flight");
            (written, stream.end())
        });
        gate.wait(); // the write began
        let stopped = Arc::new(AtomicBool::new(false));
        let (core, s) = (Arc::clone(&h.core), Arc::clone(&stopped));
        let stopper = thread::spawn(move || {
            core.mark_stopped();
            s.store(true, Ordering::SeqCst);
        });
        thread::sleep(Duration::from_millis(100));
        assert!(!stopped.load(Ordering::SeqCst), "stop returned while a write was in flight");
        gate.wait(); // the write ends
        stopper.join().unwrap();
        assert!(stopped.load(Ordering::SeqCst));
        assert_eq!(writer.join().unwrap(), (Ok(Written::Taken), Err(ErrorCode::Expired)));
        assert!(!f.fake().ended);
    }
}
