//! The mock catalogue: a stateful, deterministic e-catalogue server that the
//! tests and the demo run against (contract: docs/catalogue-api.md).
//! Run alone with `cargo run -p mock-catalog -- --listen ADDR --scenario FILE`;
//! tests start it in-process on an ephemeral port with [`MockServer::start`].
//!
//! A crate apart from the adapter's: it shares none of its rules (calendar,
//! units, prices, XML), since it exists to check them.

pub mod api;
pub mod app;
pub mod calendar;
pub mod faults;
pub mod inaproc;
pub mod plan;
pub mod rup;
pub mod scenario;
pub mod state;
mod tables;
pub mod ubl_catalogue;
pub mod ubl_order;
pub mod vocab;
mod xml;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use scenario::Scenario;

/// A running mock catalogue.
pub struct MockServer {
    pub addr: SocketAddr,
    pub state: app::AppState,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Serves `scenario` on `listen` (`127.0.0.1:0` for an ephemeral port).
    pub async fn start(scenario: Scenario, listen: &str) -> std::io::Result<Self> {
        Self::start_with(scenario, listen, bounded_serve::ServeLimits::default()).await
    }

    /// As [`MockServer::start`], with chosen connection limits (tests set short ones).
    pub async fn start_with(scenario: Scenario, listen: &str, limits: bounded_serve::ServeLimits) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let faults = scenario.faults.clone();
        let state = app::AppState::new(state::Mock::new(scenario));
        {
            let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
            for fault in faults {
                f.add(fault).map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("scenario fault: {m}")))?;
            }
        }
        let app = api::router(state.clone());
        let task = tokio::spawn(bounded_serve::serve(listener, app, limits));
        Ok(Self { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the task ends (for the binary).
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
