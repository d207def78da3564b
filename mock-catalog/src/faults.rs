//! Injected faults, per route prefix or for every route (`*`).

use serde::Deserialize;

/// At most this many faults at once: the admin API cannot grow state without bound.
const MAX_FAULTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` instead of running the request.
    Status,
    /// Add `ms` of latency.
    Latency,
    /// Close the connection after half the body.
    Drop,
    /// Send half the body: truncated JSON.
    Malformed,
    /// Answer 429 with Retry-After.
    RateLimit,
    /// Expire every issued token now.
    ExpireTokens,
    /// Paged lists repeat the previous page's last item at the top of the next page.
    Duplicate,
    /// Paged lists come in reverse order within each page.
    Reorder,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(default = "everywhere")]
    pub route: String,
    pub kind: FaultKind,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub ms: Option<u64>,
    /// How many requests it applies to; unlimited when unset.
    #[serde(default)]
    pub count: Option<u32>,
}

fn everywhere() -> String {
    "*".into()
}

/// What to do to one request.
#[derive(Debug, Default)]
pub struct Action {
    pub status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub drop: bool,
    pub malformed: bool,
    pub duplicate: bool,
    pub reorder: bool,
}

#[derive(Debug, Default)]
pub struct Faults {
    faults: Vec<Fault>,
}

impl Faults {
    pub fn add(&mut self, fault: Fault) -> Result<(), String> {
        match fault.kind {
            FaultKind::Status if !fault.status.is_some_and(|s| (400..=599).contains(&s)) => return Err("a status fault needs a status of 400-599".into()),
            FaultKind::Latency if fault.ms.is_none_or(|ms| ms > 60_000) => return Err("a latency fault needs ms of 0-60000".into()),
            _ => {}
        }
        if self.faults.len() >= MAX_FAULTS {
            return Err(format!("at most {MAX_FAULTS} faults at once"));
        }
        self.faults.push(fault);
        Ok(())
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn len(&self) -> usize {
        self.faults.len()
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    fn applies(route: &str, path: &str) -> bool {
        route == "*" || path.starts_with(route)
    }

    /// Uses up one request's worth of the faults matching `path` (not rate limits).
    pub fn take(&mut self, path: &str) -> Action {
        let mut action = Action::default();
        for f in self.faults.iter_mut().filter(|f| f.kind != FaultKind::RateLimit && Self::applies(&f.route, path)) {
            if f.count == Some(0) {
                continue;
            }
            match f.kind {
                FaultKind::Status => action.status = action.status.or(f.status),
                FaultKind::Latency => action.latency_ms = Some(action.latency_ms.unwrap_or(0) + f.ms.unwrap_or(0)),
                FaultKind::Drop => action.drop = true,
                FaultKind::Malformed => action.malformed = true,
                FaultKind::Duplicate => action.duplicate = true,
                FaultKind::Reorder => action.reorder = true,
                FaultKind::RateLimit | FaultKind::ExpireTokens => {}
            }
            if let Some(c) = f.count.as_mut() {
                *c -= 1;
            }
        }
        self.faults.retain(|f| f.count != Some(0));
        action
    }

    /// Whether a forced 429 applies to this request (and uses it up).
    pub fn take_rate_limit(&mut self, path: &str) -> bool {
        let hit = self.faults.iter_mut().find(|f| f.kind == FaultKind::RateLimit && f.count != Some(0) && Self::applies(&f.route, path));
        let Some(f) = hit else { return false };
        if let Some(c) = f.count.as_mut() {
            *c -= 1;
        }
        self.faults.retain(|f| f.count != Some(0));
        true
    }
}
