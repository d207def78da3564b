//! What the mock's two APIs share: the server's state (`AppState`), the
//! catalogue's error answer (`ApiError`) and the INAPROC quota's meter.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::faults::Faults;
use super::state::Mock;

#[derive(Clone)]
pub struct AppState {
    pub mock: Arc<Mutex<Mock>>,
    pub faults: Arc<Mutex<Faults>>,
    pub(super) rate: Arc<Mutex<(Instant, u32)>>,
    /// Last item of each paged route's previous answer (for the duplicate fault); one per route.
    pub(super) last_items: Arc<Mutex<std::collections::HashMap<String, Value>>>,
    /// Catalogue unit names to UN/ECE codes (from mappings/tables/units.csv), for UBL.
    pub(super) units: Arc<std::collections::HashMap<String, String>>,
    /// The data integrator's requests and refusals (INAPROC's quota).
    pub inaproc: Arc<Mutex<Meter>>,
    /// INAPROC's gateway refuses this caller's address (`POST /admin/inaproc {"block_ip": true}`).
    pub ip_blocked: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(mock: Mock) -> Self {
        Self {
            mock: Arc::new(Mutex::new(mock)),
            faults: Arc::new(Mutex::new(Faults::default())),
            rate: Arc::new(Mutex::new((Instant::now(), 0))),
            last_items: Arc::default(),
            units: Arc::new(crate::tables::unit_codes()),
            inaproc: Arc::default(),
            ip_blocked: Arc::default(),
        }
    }

    pub(super) fn mock(&self) -> MutexGuard<'_, Mock> {
        self.mock.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An error answer with the documented body.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    pub(super) fields: Vec<Value>,
    /// The listing that already holds an item (`already_listed`).
    pub(super) listing_id: Option<String>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: Vec::new(), listing_id: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if !self.fields.is_empty() {
            error["fields"] = Value::Array(self.fields);
        }
        if let Some(id) = self.listing_id {
            error["listing_id"] = Value::String(id);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

/// What the integrator's quota has let through and refused.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Meter {
    /// Requests with the integrator's token, refused ones included.
    pub requests: u64,
    /// Requests refused because the quota (per minute or per hour) was used up.
    pub refused_over_quota: u64,
    /// Requests refused by an injected 429 fault.
    pub refused_injected: u64,
    /// The most requests taken in any 60 seconds so far.
    pub peak_per_minute: usize,
    #[serde(skip)]
    taken: VecDeque<Instant>,
}

impl Meter {
    /// Takes one request under a sliding window of a minute and an hour;
    /// `Err(wait)` when either is used up.
    pub(super) fn take(&mut self, now: Instant, per_minute: u32, per_hour: u32) -> Result<(), Duration> {
        let hour = Duration::from_secs(3600);
        let minute = Duration::from_secs(60);
        while self.taken.front().is_some_and(|t| now.duration_since(*t) >= hour) {
            self.taken.pop_front();
        }
        let in_minute_from = self.taken.partition_point(|t| now.duration_since(*t) >= minute);
        let in_minute = self.taken.len() - in_minute_from;
        if in_minute >= per_minute as usize {
            let oldest = self.taken[self.taken.len() - per_minute as usize];
            return Err(minute.saturating_sub(now.duration_since(oldest)));
        }
        if self.taken.len() >= per_hour as usize {
            let oldest = self.taken[self.taken.len() - per_hour as usize];
            return Err(hour.saturating_sub(now.duration_since(oldest)));
        }
        self.taken.push_back(now);
        self.peak_per_minute = self.peak_per_minute.max(in_minute + 1);
        Ok(())
    }
}
