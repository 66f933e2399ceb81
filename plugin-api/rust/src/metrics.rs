use std::ffi::CString;
use std::fmt;
use std::os::raw::c_char;
use std::ptr;
use std::time::Duration;

use crate::shared::{self, host_fn};
use crate::error::{Error, ErrorCode};
use crate::host::Host;
use crate::sys;

/// A metric family made with [`Host::counter`], [`Host::gauge`] or
/// [`Host::histogram`]: one name, type, help text and set of label names.
///
/// `Copy`, `Send` and `Sync`. The host never frees a family, and its values
/// keep counting across reloads of the plugin.
#[derive(Clone, Copy)]
pub struct MetricFamily {
    api: *const sys::kerberus_host_api,
    family: *mut sys::kerberus_metric_family,
}

// SAFETY: the host's metric functions are thread-safe and its families
// live as long as the daemon.
unsafe impl Send for MetricFamily {}
unsafe impl Sync for MetricFamily {}

impl fmt::Debug for MetricFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricFamily").field("family", &self.family).finish()
    }
}

impl MetricFamily {
    pub(crate) fn create(
        host: &Host,
        kind: i32,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Result<MetricFamily, Error> {
        let context = || format!("metric {}", name);
        let invalid = || Error::refused(ErrorCode::Invalid, format!("{} (a name, the help or a label holds a NUL byte)", context()));
        let name_c = CString::new(name).map_err(|_| invalid())?;
        let help_c = CString::new(help).map_err(|_| invalid())?;
        let label_names = labels.iter().map(|l| CString::new(*l)).collect::<Result<Vec<_>, _>>().map_err(|_| invalid())?;
        let label_ptrs: Vec<*const c_char> = label_names.iter().map(|l| l.as_ptr()).collect();
        let spec = sys::kerberus_metric_spec {
            struct_size: std::mem::size_of::<sys::kerberus_metric_spec>(),
            r#type: kind,
            name: name_c.as_ptr(),
            help: help_c.as_ptr(),
            label_names: if label_ptrs.is_empty() { ptr::null() } else { label_ptrs.as_ptr() },
            label_count: label_ptrs.len(),
            buckets: if buckets.is_empty() { ptr::null() } else { buckets.as_ptr() },
            bucket_count: buckets.len(),
        };
        let api = host.core.api();
        let mut family = ptr::null_mut();
        // SAFETY: the spec and what it points to outlive the call.
        let status = unsafe { host_fn!(api, metric_family)(host.core.ctx, &spec, &mut family) };
        ErrorCode::check(status).map_err(|code| Error::refused(code, context()))?;
        Ok(MetricFamily { api: host.core.raw_api(), family })
    }

    /// The series with these label values (one per label name, in order;
    /// copied), made on first use. Takes a lock in the host: look series up
    /// once (in `init`, or once per new label value) and keep the
    /// [`Metric`]. Label values must come from a small set (the host stops
    /// at 1000 series a family): never ids or paths.
    pub fn with(&self, values: &[&str]) -> Result<Metric, Error> {
        let raw: Vec<sys::kerberus_str> = values
            .iter()
            .map(|v| sys::kerberus_str { data: shared::data_of(v.as_bytes()), len: v.len() })
            .collect();
        let mut series = ptr::null_mut();
        // SAFETY: the family is the host's for as long as the daemon runs;
        // the values are copied.
        let status = unsafe {
            host_fn!(&*self.api, metric_series)(
                self.family,
                if raw.is_empty() { ptr::null() } else { raw.as_ptr() },
                raw.len(),
                &mut series,
            )
        };
        ErrorCode::check(status).map_err(|code| Error::refused(code, "metric series"))?;
        Ok(Metric { api: self.api, series })
    }

    /// The one series of a family without labels.
    pub fn get(&self) -> Result<Metric, Error> {
        self.with(&[])
    }
}

/// One series of a metric family: record values from any thread,
/// lock-free, cheaply enough for every request. `Copy`, `Send` and `Sync`.
///
/// Counters take [`add`](Metric::add) of values >= 0, gauges `add` and
/// [`set`](Metric::set), histograms [`observe`](Metric::observe). The host
/// refuses anything else (another type, a NaN, a negative counter
/// increment) and records nothing; the result is not reported, as a metric
/// must never fail a request.
#[derive(Clone, Copy)]
pub struct Metric {
    api: *const sys::kerberus_host_api,
    series: *mut sys::kerberus_metric,
}

// SAFETY: as MetricFamily.
unsafe impl Send for Metric {}
unsafe impl Sync for Metric {}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric").field("series", &self.series).finish()
    }
}

impl Metric {
    /// Adds `value` (counters: >= 0).
    pub fn add(&self, value: f64) {
        // SAFETY: a live series; see MetricFamily.
        unsafe { host_fn!(&*self.api, metric_add)(self.series, value) };
    }

    /// Adds 1.
    pub fn inc(&self) {
        self.add(1.0)
    }

    /// Sets a gauge.
    pub fn set(&self, value: f64) {
        // SAFETY: as add.
        unsafe { host_fn!(&*self.api, metric_set)(self.series, value) };
    }

    /// Observes a value in a histogram.
    pub fn observe(&self, value: f64) {
        // SAFETY: as add.
        unsafe { host_fn!(&*self.api, metric_observe)(self.series, value) };
    }

    /// Observes a duration in seconds, Prometheus' unit.
    pub fn observe_duration(&self, duration: Duration) {
        self.observe(duration.as_secs_f64())
    }
}
