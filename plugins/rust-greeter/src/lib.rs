//! rust-greeter — a kerberus plugin in Rust, and the one to copy.
//!
//! Built on the kerberus-plugin crate (plugin-api/rust), which wraps the C
//! ABI of plugin.h safely: the descriptor comes from `plugin!`, handlers are
//! closures, and a panic anywhere is caught before it could reach the host.
//!
//!   GET /api/rust-greeter/hello/<name>  "Hello, <name>!"              (answered in the handler)
//!   GET /api/rust-greeter/later/<name>  the same, after delay_ms       (answered from the plugin's thread)
//!   GET /api/rust-greeter/settings      the settings in use, as JSON   (reads the config)
//!   GET /api/rust-greeter/panic         panics: the host answers 500 and the log says why
//!
//! Config (plugins.rust-greeter.config in kerberus.yaml):
//!   greeting   string, default "Hello"
//!   shout      bool, default false: the greeting in capitals
//!   delay_ms   integer 0..10000, default 100: how long /later waits
//!
//! Metric: kerberus_plugin_rust_greeter_greetings_total{route="hello"|"later"}.
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use kerberus_plugin::{json, Error, Host, Metric, PendingRequest, Plugin, Request};

const MAX_DELAY_MS: i64 = 10_000;

/// The settings, read and checked once in init; handlers share them
/// read-only, so they need no lock.
struct Settings {
    greeting: String,
    delay: Duration,
    shout: bool,
}

impl Settings {
    /// `?` turns a value of the wrong type into an init failure naming the
    /// key: a misconfigured plugin fails at start-up instead of serving
    /// defaults nobody asked for.
    fn read(host: &Host) -> Result<Settings, Error> {
        let greeting = host.config_string("greeting")?.unwrap_or_else(|| "Hello".to_string());
        let shout = host.config_bool("shout")?.unwrap_or(false);
        let delay_ms = host.config_int("delay_ms")?.unwrap_or(100);
        if !(0..=MAX_DELAY_MS).contains(&delay_ms) {
            return Err(Error::new(format!("config key 'delay_ms' must be 0..{}, got {}", MAX_DELAY_MS, delay_ms)));
        }
        Ok(Settings { greeting, delay: Duration::from_millis(delay_ms as u64), shout })
    }

    fn greet(&self, name: &str) -> String {
        let greeting = if self.shout { self.greeting.to_uppercase() } else { self.greeting.clone() };
        format!("{}, {}!\n", greeting, name)
    }
}

/// A kept request waiting for its time.
struct Job {
    due: Instant,
    request: PendingRequest,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    stopping: bool,
}

/// Everything one instance owns. The host may run two instances side by
/// side during a reload, so nothing lives in statics.
struct Greeter {
    queue: Arc<Queue>,
    worker: Option<JoinHandle<()>>,
}

impl Plugin for Greeter {
    fn init(host: &Host) -> Result<Greeter, Error> {
        let settings = Arc::new(Settings::read(host)?);

        // Families are made in init; a series is looked up once and kept,
        // since looking one up takes a lock in the host.
        let greetings = host.counter("greetings_total", "Greetings sent, by route", &["route"])?;
        let hello_count = greetings.with(&["hello"])?;
        let later_count = greetings.with(&["later"])?;

        // Patterns are relative to /api/rust-greeter. The handlers run on
        // the HTTP workers, concurrently: they capture only Send + Sync data.
        let s = Arc::clone(&settings);
        host.route("GET", "/hello/:name", move |req| {
            hello_count.inc();
            // ":name" matches one non-empty segment, so the param is there;
            // param() reads it percent-decoded.
            let body = s.greet(&req.param("name").unwrap_or_default());
            req.respond(200, body)
        })?
        .summary("Greets :name")?;

        // A handler must not block. This one keeps the request and hands it
        // to the plugin's own thread, which answers when the delay is over.
        let queue = Arc::new(Queue::default());
        let (q, s, h) = (Arc::clone(&queue), Arc::clone(&settings), host.clone());
        host.route("GET", "/later/:name", move |req| {
            let request = req.keep();
            h.debug(format!("later: queued {}", request.path()));
            let mut state = q.state.lock().unwrap();
            state.jobs.push_back(Job { due: Instant::now() + s.delay, request });
            q.wake.notify_one();
        })?
        .summary("Greets :name after delay_ms, from the plugin's own thread")?;

        // Config getters may be called from any thread, handlers included.
        let (s, h) = (Arc::clone(&settings), host.clone());
        host.route("GET", "/settings", move |req| {
            let config = h.config_json().map_err(|e| e.to_string())?;
            let body = format!(
                "{{\"greeting\":{},\"shout\":{},\"delay_ms\":{},\"config\":{}}}",
                json::string(&s.greeting),
                s.shout,
                s.delay.as_millis(),
                config
            );
            req.respond_json(200, body).map_err(|e| e.to_string())
        })?
        .summary("The settings in use, and the plugin's config as JSON")?;

        // Anyone may ask who they are; the daemon has checked any token sent.
        host.route("GET", "/whoami", |req| {
            let body = match req.caller() {
                Some(caller) => format!("{} ({})\n", caller.subject, caller.token_type),
                None => "nobody\n".to_string(),
            };
            req.respond(200, body)
        })?
        .allow_unauthenticated()?
        .summary("Who called: the subject of a verified token, or nobody")?;

        host.route("GET", "/panic", panic)?.summary("Panics, to show the 500 and the log line that follow")?;

        // Last, so that a failed init never leaves a thread behind: once init
        // has failed, stop is not called.
        let q = Arc::clone(&queue);
        let worker = thread::Builder::new()
            .name("rust-greeter".to_string())
            .spawn(move || answer_when_due(&q, &settings, later_count))
            .map_err(|e| Error::new(format!("cannot start the worker thread: {}", e)))?;
        Ok(Greeter { queue, worker: Some(worker) })
    }

    /// No new requests will arrive. Wake the worker and join it; it answers
    /// whatever is still queued 503. (On shutdown the daemon has usually
    /// answered those 503 itself already, at the end of its
    /// shutdown_timeout: the worker's answer then returns Expired, and does
    /// nothing.) Once stop returns, the host answers what is still kept and
    /// the PendingRequests go inert.
    fn stop(&mut self) {
        self.queue.state.lock().unwrap().stopping = true;
        self.queue.wake.notify_one();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }

    /// Runs on the host's health thread: quick, never blocking.
    fn health(&self) -> Result<(), String> {
        match &self.worker {
            Some(worker) if worker.is_finished() => Err("the worker thread has ended".to_string()),
            _ => Ok(()),
        }
    }
}

/// A handler may be a function too. Its return type is spelled out: a
/// closure that only panics would leave it to the compiler to infer.
fn panic(_req: &mut Request<'_>) {
    panic!("the greeter was asked to panic")
}

/// The worker: answers each kept request once it is due, and everything
/// still queued when the plugin stops.
fn answer_when_due(queue: &Queue, settings: &Settings, count: Metric) {
    let mut state = queue.state.lock().unwrap();
    loop {
        if state.stopping {
            for mut job in state.jobs.drain(..) {
                let _ = job.request.respond_error(503, "the greeter is stopping");
            }
            return;
        }
        let now = Instant::now();
        match state.jobs.front() {
            Some(job) if job.due <= now => {
                let mut job = state.jobs.pop_front().unwrap();
                // Answer without the lock: respond() never blocks, but the
                // handlers should not wait for it either.
                drop(state);
                // A kept request stays readable until it is answered.
                let body = settings.greet(&job.request.param("name").unwrap_or_default());
                count.inc();
                let _ = job.request.respond(200, body);
                state = queue.state.lock().unwrap();
            }
            Some(job) => {
                let wait = job.due - now;
                state = queue.wake.wait_timeout(state, wait).unwrap().0;
            }
            None => state = queue.wake.wait(state).unwrap(),
        }
    }
}

// The descriptor and the entry symbol kerberus_plugin_v1. The version is
// the crate's (Cargo.toml), which is also the one in the file name.
kerberus_plugin::plugin!(Greeter, id: "rust-greeter", description: "Greets in Rust, now or a little later");
