//! The mock e-catalogue server on its own:
//! `cargo run -p mock-catalog -- --listen 127.0.0.1:8787 --scenario fixtures/scenarios/mojokerto.toml`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_catalog::{MockServer, Scenario};
use tracing_subscriber::EnvFilter;

/// A stateful mock of the government e-catalogue (see docs/catalogue-api.md)
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: String,
    /// Scenario file: buyers, review rules, ceiling prices, order rate, seed
    #[arg(long, default_value = "fixtures/scenarios/mojokerto.toml")]
    scenario: PathBuf,
    /// Start the story near today (08:00 WIB on the next Monday that opens
    /// two weeks without a holiday) instead of on the scenario's `start`
    #[arg(long)]
    start_near_today: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))).with_writer(std::io::stderr).init();
    let scenario = match Scenario::load(&args.scenario) {
        Ok(s) if args.start_near_today => s.starting_near(chrono::Utc::now()),
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match MockServer::start(scenario, &args.listen).await {
        Ok(server) => {
            eprintln!("mock catalogue listening on {} (admin: {}/admin/state)", server.url(), server.url());
            server.wait().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            ExitCode::from(2)
        }
    }
}
