//! `shoal`: flags in, daemon out.

use clap::Parser;

use shoal::config::{Config, Flags};

fn main() -> std::process::ExitCode {
    let flags = Flags::parse();
    shoal::telemetry::init(&flags.log_level);
    let config = match Config::from_flags(flags) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("shoal: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("shoal: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(shoal::daemon::run(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "shoal failed");
            eprintln!("shoal: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
