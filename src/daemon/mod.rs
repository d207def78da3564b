//! The daemon's parts. So far: job schedules (`schedule.rs`), which
//! `katalog-bridge schedule` shows; the daemon loop itself is still to come.

pub mod schedule;
