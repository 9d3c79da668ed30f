use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = warroom::cli::Cli::parse();
    match warroom::cli::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("warroom: {e:#}");
            ExitCode::from(1)
        }
    }
}
