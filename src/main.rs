//! The `huntbench` binary: parses arguments and hands over to `cli`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = huntbench::cli::Cli::parse();
    match huntbench::cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`huntbench search … | head`) is not a failure.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("huntbench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
