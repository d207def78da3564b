//! Serving an axum router over HTTP/1.1 with bounds a hostile client cannot
//! exceed: a cap on open connections and on those of any one address (so
//! one address holding half-open connections cannot keep the others out), a
//! deadline for a request's headers (which also closes a keep-alive
//! connection left idle), and a deadline for the whole request (headers,
//! body and answer). The mock catalogue serves with it, and so do the
//! daemon's health and metrics listener and its dashboard.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Connections one address may hold at once (0: no cap of its own); one
    /// more from it is closed at once.
    pub per_address: usize,
    /// Time to send a request's headers, and the longest a kept-alive
    /// connection may sit idle before its next request.
    pub header_read: Duration,
    /// Time for one whole request: reading the body, handling, answering.
    pub request: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self { max_connections: 512, per_address: 0, header_read: Duration::from_secs(10), request: Duration::from_secs(60) }
    }
}

/// Serves `app` on `listener` until the task is dropped or aborted.
pub async fn serve(listener: TcpListener, app: Router, limits: ServeLimits) {
    let app = app.layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| async move {
        match tokio::time::timeout(limits.request, next.run(req)).await {
            Ok(response) => response,
            Err(_) => request_timeout(limits.request),
        }
    }));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(AddressCounts::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over its own cap, an address's new connection is closed before it
        // waits for (or takes) one of the connections everyone shares.
        let Some(held) = AddressCounts::enter(&per_address, peer.ip(), limits.per_address) else {
            tracing::debug!(address = %peer.ip(), "a connection over the address's cap was closed");
            drop(stream);
            continue;
        };
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        // Each request knows the address it came from (`ConnectInfo`), for
        // the dashboard's login throttling.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(app.clone(), move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        }));
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
            drop(held);
        });
    }
}

/// Open connections by address.
#[derive(Default)]
struct AddressCounts(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of an address; counted until dropped.
struct AddressHeld {
    counts: Arc<AddressCounts>,
    ip: IpAddr,
}

impl AddressCounts {
    /// Counts a connection of `ip`, unless it already holds `cap` (0: no cap).
    fn enter(counts: &Arc<AddressCounts>, ip: IpAddr, cap: usize) -> Option<AddressHeld> {
        let mut map = counts.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if cap > 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(AddressHeld { counts: counts.clone(), ip })
    }
}

impl Drop for AddressHeld {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

fn request_timeout(limit: Duration) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({"error": {"code": "request_timeout", "message": format!("the request took longer than {} s", limit.as_secs())}});
    (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}
