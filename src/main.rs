use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = warroom::cli::Cli::parse();
    match warroom::cli::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            // Not `eprintln!`: it panics when stderr is a terminal that has gone away.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "warroom: {e:#}");
            ExitCode::from(1)
        }
    }
}
