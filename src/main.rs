use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = katalog_bridge::cli::Cli::parse();
    katalog_bridge::alloc::hand_back_large_buffers();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(katalog_bridge::cli::run(cli))
}
