//! Serving an axum router over HTTP/1.1 with bounds a hostile client cannot
//! exceed: a cap on open connections, a deadline for a request's headers
//! (which also closes a keep-alive connection left idle), and a deadline for
//! the whole request (headers, body and answer). The mock catalogue serves
//! with it, and so do the daemon's health and metrics endpoints and its dashboard.

use std::sync::Arc;
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
    /// Time to send a request's headers, and the longest a kept-alive
    /// connection may sit idle before its next request.
    pub header_read: Duration,
    /// Time for one whole request: reading the body, handling, answering.
    pub request: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self { max_connections: 512, header_read: Duration::from_secs(10), request: Duration::from_secs(60) }
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
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
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
        });
    }
}

fn request_timeout(limit: Duration) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::json!({"error": {"code": "request_timeout", "message": format!("the request took longer than {} s", limit.as_secs())}});
    (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}
