//! katalog-bridge: puts cooperative (KKMP) products on the Indonesian
//! government e-catalogue and brings purchase orders back.
//!
//! See ARCHITECTURE.md for the map of this crate.

pub mod alloc;
pub mod app;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod config;
pub mod daemon;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod intake;
pub mod jobs;
pub mod listings;
pub mod mapping;
pub mod notify;
pub mod orders;
pub mod payments;
pub mod photos;
pub mod publish;
pub mod rup;
pub mod shutdown;
pub mod store;
pub mod task;
pub mod telemetry;
pub mod web;
