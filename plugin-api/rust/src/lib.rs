//! kerberus plugins in Rust: a safe layer over the C ABI of
//! `kerberus/plugin.h`.
//!
//! plugin.h stays the contract; this crate only makes it safe and pleasant
//! from Rust: a type per plugin, closures as handlers, `Option` and
//! `Result` instead of status codes, borrowed views that cannot outlive the
//! request, an owned [`PendingRequest`] for answers from other threads, and
//! a [`ResponseStream`] for answers sent as they are produced.
//! It has no dependencies and builds with Rust 1.63 (Debian 12's), offline.
//! [`sys`] mirrors the header itself, for anything the safe layer does not
//! wrap.
//!
//! ```no_run
//! use kerberus_plugin::{Error, Host, Plugin};
//!
//! struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn init(host: &Host) -> Result<Self, Error> {
//!         let greeting = host.config_string("greeting")?.unwrap_or_else(|| "Hello".to_string());
//!         host.route("GET", "/:name", move |req| {
//!             let body = format!("{}, {}!\n", greeting, req.param("name").unwrap_or_default());
//!             req.respond(200, body)
//!         })?
//!         .summary("Greets :name")?;
//!         Ok(Greeter)
//!     }
//! }
//!
//! kerberus_plugin::plugin!(Greeter, id: "greeter", description: "Greets whoever asks");
//! ```
//!
//! # Building a plugin
//!
//! A plugin is a `cdylib` crate depending on this one by path. Keep
//! `panic = "unwind"` (Cargo's default): with `panic = "abort"` a panic ends
//! the whole daemon instead of failing one request.
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! kerberus-plugin = { path = "../../plugin-api/rust" }
//!
//! [profile.release]
//! panic = "unwind"
//! # Before Rust 1.77 the standard library's debug information is linked in:
//! # 12 MB instead of 0.6 MB for the daemon to copy and hash on each load.
//! strip = "debuginfo"
//! ```
//!
//! `cargo build --release` writes `target/release/lib<crate>.so`; install it
//! into a plugin directory as `<id>.so.X.Y.Z`, X.Y.Z being the descriptor's
//! version (by default the crate's). rustc exports only `#[no_mangle]`
//! functions from a `cdylib`: the entry function `kerberus_plugin_v1`
//! alone, as the host requires, unless the plugin adds others. In the
//! kerberus tree, `kerberus_add_rust_plugin()` (plugin-api/rust/cmake)
//! does all of this.
//!
//! # Panics never reach the host
//!
//! No unwind may cross plugin.h in either direction, so every function the
//! crate hands to the host catches panics with `std::panic::catch_unwind`:
//!
//! - [`Plugin::init`]: a panic fails the plugin, with `"init panicked:
//!   <message>"` as its error (its routes answer 503); so does an `Err`,
//!   with the error's message.
//! - a route handler: the panic is logged at ERROR with the method, the
//!   path and the message, and a request not yet answered gets the host's
//!   500. So is an `Err` the handler returns.
//! - a [`Host::fetch`] completion: logged at ERROR; a [`PendingRequest`] it
//!   owned and had not answered answers 500 as it is dropped.
//! - a stream's event closure ([`Request::stream`]): logged at ERROR; the
//!   stream goes on.
//! - [`Plugin::stop`]: logged at ERROR; the plugin still counts as stopped.
//! - [`Plugin::health`]: reported as unhealthy with the message as the
//!   reason.
//! - visitor closures ([`Request::for_each_header`], ...): the iteration
//!   stops and the panic resumes in the plugin once the host has returned.
//!
//! Rust's panic hook still prints each panic to the daemon's stderr, with
//! its location.
//!
//! # Threads and lifetimes (plugin.h has the full rules)
//!
//! - The plugin value is made by [`Plugin::init`], stopped and dropped on
//!   the host's main thread; [`Plugin::health`] runs on the host's health
//!   thread, never at the same time as `stop`. Handlers run on the HTTP
//!   worker threads, concurrently with each other and with themselves, so
//!   they are `Fn + Send + Sync` and share state through `Arc`. A handler
//!   must not block.
//! - [`Host`] is usable from `init` until the plugin is destroyed, from any
//!   thread; routes and metric families only during `init`.
//! - A [`Request`] lives for one handler call; every view it returns
//!   borrows it, so the compiler keeps views from outliving the request.
//!   Text accessors give `Cow<str>`, borrowed unless the bytes were not
//!   UTF-8 (then U+FFFD replaces what was ill-formed); `_bytes` variants
//!   give the bytes.
//! - [`Request::keep`] gives a [`PendingRequest`] that answers later from
//!   any thread (it is `Send`). Everything still pending when `stop` returns
//!   has been answered 503 and freed by the host; the crate then makes those
//!   objects inert. Answer or drop kept requests inside `stop`, and join
//!   every thread that holds one there.
//! - [`Request::stream`] and [`PendingRequest::stream`] (ABI 1.4) move the
//!   request into a [`ResponseStream`] (`Send`), written from one thread at
//!   a time and ended by [`ResponseStream::end`] or its drop (cut off, as
//!   by [`ResponseStream::abort`], when dropped by a panic); its event
//!   closure runs on a worker thread of the host's and is dropped once the
//!   stream is over. Streams still open when `stop` returns have been cut
//!   off by the host: their calls return `Err(ErrorCode::Expired)` and touch
//!   nothing. End them, and join their threads, inside `stop`.
//!
//! # ABI versions
//!
//! A plugin built with this crate records ABI 1.4 in its descriptor, so
//! only a host of ABI 1.4 or newer loads it; `init` double-checks that the
//! host's table has every function the crate calls, and fails the plugin
//! with a message otherwise. The crate therefore never tests for a
//! function before calling it; [`host_has!`] is there for code that calls
//! [`sys`] directly.
#![warn(missing_docs)]

mod shared;
mod error;
mod host;
pub mod json;
mod metrics;
mod outbound;
mod request;
mod stream;
pub mod sys;

pub use crate::error::{Error, ErrorCode};
pub use crate::host::{HandlerResult, Host, Level, Route};
pub use crate::metrics::{Metric, MetricFamily};
pub use crate::outbound::{OutboundRequest, OutboundResponse};
pub use crate::request::{Caller, PendingRequest, Request};
pub use crate::stream::{ResponseStream, StreamEvent, Written};

/// One plugin instance: made by `init`, stopped, then dropped. Name the
/// type in [`plugin!`] to export it.
///
/// The host may run two instances of one plugin side by side during a
/// reload (each from its own copy of the library): keep state in the
/// instance, not in statics shared with the outside (files, ports).
pub trait Plugin: Send + Sized + 'static {
    /// Makes the instance: register routes, read config, make metric
    /// families, start the plugin's own threads. An `Err` (or a panic)
    /// fails the plugin with its message as the error: its routes answer
    /// 503, and the other plugins carry on. Runs on the host's main thread.
    fn init(host: &Host) -> Result<Self, Error>;

    /// No new requests will arrive. Answer or drop the requests you keep
    /// and join your threads before returning: once it returns, the host
    /// answers 503 to whatever is still kept. Runs on the main thread, only
    /// after a successful `init`. The instance is dropped later, on the main
    /// thread too.
    fn stop(&mut self) {}

    /// `Ok(())` when the instance can serve, otherwise why not. Called
    /// every `health.interval` on the host's health thread, concurrently
    /// with handlers; must be quick and must not block. The default is
    /// always healthy.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Defines the plugin's descriptor and its entry function
/// `kerberus_plugin_v1`. Use it once per plugin crate, at the crate's top
/// level, naming a type that implements [`Plugin`]:
///
/// ```no_run
/// # use kerberus_plugin::{Error, Host, Plugin};
/// # struct Greeter;
/// # impl Plugin for Greeter { fn init(_: &Host) -> Result<Self, Error> { Ok(Greeter) } }
/// kerberus_plugin::plugin!(Greeter, id: "greeter", version: "1.2.0", description: "Greets whoever asks");
/// ```
///
/// `id` is `[a-z0-9][a-z0-9-]*`, at most 64 characters: the route prefix
/// `/api/<id>/` and the config namespace `plugins.<id>`. `version` is
/// `MAJOR.MINOR.PATCH` (a `-prerelease` suffix is allowed); without it, the
/// crate's own version (`CARGO_PKG_VERSION`) is used. `description` is one
/// line for humans. All three are literals, checked when the crate
/// compiles, so a plugin the host would refuse does not build.
/// `config_schema: "<JSON Schema>"` (a literal, after the description)
/// declares the settings the plugin takes: the host checks them against it
/// before `init` and fills in its defaults (plugin.h, `config_schema`):
///
/// ```compile_fail
/// # use kerberus_plugin::{Error, Host, Plugin};
/// # struct Greeter;
/// # impl Plugin for Greeter { fn init(_: &Host) -> Result<Self, Error> { Ok(Greeter) } }
/// kerberus_plugin::plugin!(Greeter, id: "Greeter", version: "1.0.0", description: "ids are lower case");
/// ```
#[macro_export]
macro_rules! plugin {
    ($plugin:ty, id: $id:expr, description: $description:expr $(,)?) => {
        $crate::plugin!($plugin, id: $id, version: env!("CARGO_PKG_VERSION"), description: $description);
    };
    ($plugin:ty, id: $id:expr, version: $version:expr, description: $description:expr $(,)?) => {
        $crate::plugin!(@define $plugin, $id, $version, $description, ::core::ptr::null());
    };
    ($plugin:ty, id: $id:expr, version: $version:expr, description: $description:expr,
     config_schema: $schema:expr $(,)?) => {
        $crate::plugin!(@define $plugin, $id, $version, $description,
                        concat!($schema, "\0").as_ptr() as *const ::std::os::raw::c_char);
    };
    (@define $plugin:ty, $id:expr, $version:expr, $description:expr, $schema:expr) => {
        const _: () = $crate::__private::check_descriptor($id, $version, $description);

        /// The entry symbol: returns the static descriptor and does nothing
        /// else (the host also calls it for plugins it only inspects).
        #[no_mangle]
        pub extern "C" fn kerberus_plugin_v1() -> *const $crate::sys::kerberus_plugin_descriptor {
            static DESCRIPTOR: $crate::__private::Descriptor =
                $crate::__private::Descriptor($crate::sys::kerberus_plugin_descriptor {
                    struct_size: ::core::mem::size_of::<$crate::sys::kerberus_plugin_descriptor>(),
                    abi_major: $crate::sys::KERBERUS_ABI_MAJOR,
                    abi_minor: $crate::sys::KERBERUS_ABI_MINOR,
                    id: concat!($id, "\0").as_ptr() as *const ::std::os::raw::c_char,
                    version: concat!($version, "\0").as_ptr() as *const ::std::os::raw::c_char,
                    description: concat!($description, "\0").as_ptr() as *const ::std::os::raw::c_char,
                    init: Some($crate::__private::init::<$plugin>),
                    stop: Some($crate::__private::stop::<$plugin>),
                    destroy: Some($crate::__private::destroy::<$plugin>),
                    health: Some($crate::__private::health::<$plugin>),
                    config_schema: $schema,
                });
            &DESCRIPTOR.0
        }
    };
}

/// What [`plugin!`] expands to; not part of the API.
#[doc(hidden)]
pub mod __private {
    use std::os::raw::c_void;
    use std::sync::{Arc, Mutex};

    use crate::shared::{self, lock, Core};
    use crate::{sys, ErrorCode, Host, Plugin};

    /// The descriptor, shareable as a static: it only holds pointers to
    /// string literals and functions.
    #[repr(transparent)]
    pub struct Descriptor(pub sys::kerberus_plugin_descriptor);
    // SAFETY: immutable, and everything it points to is static.
    unsafe impl Sync for Descriptor {}

    /// The instance pointer the host passes back to stop, destroy and
    /// health.
    struct Instance<P> {
        core: Arc<Core>,
        plugin: Mutex<Option<P>>,
    }

    fn failure_status(code: ErrorCode) -> sys::kerberus_status {
        match code.status() {
            status if status < 0 => status,
            _ => sys::KERBERUS_ERR_INTERNAL,
        }
    }

    /// The descriptor's init.
    ///
    /// # Safety
    /// Called by the host only, as plugin.h says.
    pub unsafe extern "C" fn init<P: Plugin>(
        api: *const sys::kerberus_host_api,
        ctx: *mut sys::kerberus_plugin_ctx,
        instance: *mut *mut c_void,
    ) -> sys::kerberus_status {
        shared::boundary(sys::KERBERUS_ERR_INTERNAL, || {
            if instance.is_null() || api.is_null() {
                return sys::KERBERUS_ERR_INVALID;
            }
            *instance = std::ptr::null_mut();
            if let Some(missing) = shared::missing_function(api) {
                if let (true, Some(set_error)) = (crate::host_has!(api, set_error), (*api).set_error) {
                    let message = format!(
                        "the host lacks {}: this plugin needs a kerberusd with ABI {}.{}",
                        missing,
                        sys::KERBERUS_ABI_MAJOR,
                        sys::KERBERUS_ABI_MINOR
                    );
                    set_error(ctx, shared::data_of(message.as_bytes()), message.len());
                }
                return sys::KERBERUS_ERR_INVALID;
            }
            let core = Arc::new(Core::new(api, ctx));
            let raw = Box::into_raw(Box::new(Instance::<P> { core: Arc::clone(&core), plugin: Mutex::new(None) }));
            // Published at once: destroy runs even after a failed init.
            *instance = raw as *mut c_void;
            let host = Host::new(core);
            match shared::catch(|| P::init(&host)) {
                Ok(Ok(plugin)) => {
                    *lock(&(*raw).plugin) = Some(plugin);
                    sys::KERBERUS_OK
                }
                Ok(Err(error)) => {
                    host.core.set_error(error.message());
                    failure_status(error.code())
                }
                Err(message) => {
                    host.core.set_error(&format!("init panicked: {}", message));
                    sys::KERBERUS_ERR_INTERNAL
                }
            }
        })
    }

    /// The descriptor's stop.
    ///
    /// # Safety
    /// Called by the host only, with the instance init made.
    pub unsafe extern "C" fn stop<P: Plugin>(instance: *mut c_void) {
        shared::boundary((), || {
            if instance.is_null() {
                return;
            }
            let instance = &*(instance as *const Instance<P>);
            let stopped = shared::catch(|| {
                if let Some(plugin) = lock(&instance.plugin).as_mut() {
                    plugin.stop();
                }
            });
            // Whatever stop did, the host now answers and frees what is
            // still kept: PendingRequests must not touch theirs again.
            instance.core.mark_stopped();
            if let Err(message) = stopped {
                instance.core.log(sys::KERBERUS_LOG_ERROR, &format!("stop panicked: {}", message));
            }
        })
    }

    /// The descriptor's destroy.
    ///
    /// # Safety
    /// Called by the host only, once, with the instance init made.
    pub unsafe extern "C" fn destroy<P: Plugin>(instance: *mut c_void) {
        shared::boundary((), || {
            if instance.is_null() {
                return;
            }
            let instance = Box::from_raw(instance as *mut Instance<P>);
            instance.core.mark_stopped();
            let plugin = lock(&instance.plugin).take();
            if let Err(message) = shared::catch(move || drop(plugin)) {
                instance.core.log(sys::KERBERUS_LOG_ERROR, &format!("dropping the plugin panicked: {}", message));
            }
            // After the plugin: its drop may still need what the handlers
            // hold.
            instance.core.free_routes();
            instance.core.free_deferred();
            shared::drop_quietly(instance);
        })
    }

    /// The descriptor's health.
    ///
    /// # Safety
    /// Called by the host only, with the instance init made.
    pub unsafe extern "C" fn health<P: Plugin>(instance: *mut c_void) -> sys::kerberus_status {
        shared::boundary(sys::KERBERUS_ERR_INTERNAL, || {
            if instance.is_null() {
                return sys::KERBERUS_ERR_STATE;
            }
            let instance = &*(instance as *const Instance<P>);
            let plugin = lock(&instance.plugin);
            let plugin = match plugin.as_ref() {
                Some(plugin) => plugin,
                None => return sys::KERBERUS_ERR_STATE, // its init failed
            };
            match shared::catch(|| plugin.health()) {
                Ok(Ok(())) => sys::KERBERUS_OK,
                Ok(Err(reason)) => {
                    instance.core.set_error(&reason);
                    sys::KERBERUS_ERR_INTERNAL
                }
                Err(message) => {
                    instance.core.set_error(&format!("health panicked: {}", message));
                    sys::KERBERUS_ERR_INTERNAL
                }
            }
        })
    }

    /// Fails the build for an id, version or description the host would
    /// refuse, instead of the plugin at load time.
    pub const fn check_descriptor(id: &str, version: &str, description: &str) {
        let id = id.as_bytes();
        if id.is_empty() || id.len() > 64 {
            panic!("kerberus_plugin::plugin!: the id must be 1 to 64 characters");
        }
        let mut i = 0;
        while i < id.len() {
            let c = id[i];
            if !(c.is_ascii_lowercase() || c.is_ascii_digit() || (c == b'-' && i > 0)) {
                panic!("kerberus_plugin::plugin!: the id must match [a-z0-9][a-z0-9-]*");
            }
            i += 1;
        }
        if !is_semver(version.as_bytes()) {
            panic!("kerberus_plugin::plugin!: the version must be MAJOR.MINOR.PATCH, optionally with a -prerelease");
        }
        let description = description.as_bytes();
        let mut i = 0;
        while i < description.len() {
            if description[i] < 0x20 || description[i] == 0x7f {
                panic!("kerberus_plugin::plugin!: the description must be one line without control characters");
            }
            i += 1;
        }
    }

    /// MAJOR.MINOR.PATCH of decimal numbers, then nothing or "-" and a
    /// non-empty run of [0-9A-Za-z.-].
    const fn is_semver(v: &[u8]) -> bool {
        let mut i = 0;
        let mut part = 0;
        while part < 3 {
            let start = i;
            while i < v.len() && v[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return false;
            }
            if part < 2 {
                if i >= v.len() || v[i] != b'.' {
                    return false;
                }
                i += 1;
            }
            part += 1;
        }
        if i == v.len() {
            return true;
        }
        if v[i] != b'-' || i + 1 == v.len() {
            return false;
        }
        i += 1;
        while i < v.len() {
            if !(v[i].is_ascii_alphanumeric() || v[i] == b'.' || v[i] == b'-') {
                return false;
            }
            i += 1;
        }
        true
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn versions_are_semver_with_an_optional_prerelease() {
            for good in ["1.0.0", "0.12.345", "1.0.0-rc.1", "2.0.0-alpha-2"] {
                assert!(is_semver(good.as_bytes()), "{}", good);
            }
            for bad in ["", "1", "1.0", "1.0.", "1..0", "1.0.0-", "1.0.0+build", "v1.0.0", "1.0.0 "] {
                assert!(!is_semver(bad.as_bytes()), "{}", bad);
            }
        }
    }
}
