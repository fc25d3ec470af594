//! `shoal`: flags in, daemon out.

use clap::Parser;

use shoal::config::{Config, Flags};

/// One worker thread fewer than the machine has cores (at least one): the Raft thread,
/// dockerd and containerd need the rest, and on small machines cross-thread wake-ups cost
/// more than a second worker gains (measured: 4,500 against 3,500 concurrent service creates
/// per second on two cores).
fn worker_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1).max(1))
        .unwrap_or(1)
}

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
        .worker_threads(worker_threads())
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
