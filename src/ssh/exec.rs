//! `ssh -p 2222 HOST incidents` (and every other one-shot action of the CLI):
//! the command line is split as a shell would, parsed by the CLI's own clap
//! definitions, and run by the CLI's own code ([`crate::cli::act`]) against
//! the server in-process — the key's name as the actor, its role checked by
//! the same command path as the API's.

use crate::cli::act::{self, ActCmd, Backend, Output};
use crate::client::Replica;
use crate::domain::{Command, Policy};
use crate::protocol::{CommandResult, MAX_PAGE};
use crate::server::auth::Caller;
use crate::server::commands;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use clap::Parser;
use std::sync::Arc;

/// The longest command line taken.
pub const MAX_COMMAND: usize = 64 * 1024;

/// What a one-shot command printed, and its exit status.
#[derive(Debug, Default)]
pub struct Ran {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: u32,
}

/// The actions over SSH: `ssh HOST declare "API down" --severity P1`.
#[derive(Debug, Parser)]
#[command(
    name = "ssh HOST",
    no_binary_name = true,
    disable_version_flag = true,
    about = "The war room's one-shot actions over SSH (without a command: the war room itself, with `ssh -t`)"
)]
struct SshCommand {
    #[command(subcommand)]
    action: ActCmd,
}

/// The server itself as the actions' [`Backend`].
struct InProcess<'a> {
    state: &'a Arc<AppState>,
    caller: &'a Caller,
}

impl Backend for InProcess<'_> {
    async fn send(&self, cmd: &Command) -> Result<CommandResult, String> {
        match commands::submit_as(self.state, cmd.clone(), self.caller).await {
            Ok(done) => Ok(CommandResult {
                events: done
                    .appended
                    .events
                    .iter()
                    .map(|e| e.recorded.clone())
                    .collect(),
                duplicate: done.appended.duplicate,
            }),
            Err(e) => Err(e.body.error),
        }
    }

    async fn replica(&self) -> anyhow::Result<Replica> {
        let mut replica = Replica::default();
        loop {
            let store = self.state.store.clone();
            let after = replica.last_seq();
            let page =
                tokio::task::spawn_blocking(move || store.events_after(after, MAX_PAGE)).await??;
            let full = page.len() >= MAX_PAGE;
            for ev in page {
                replica.apply(ev.recorded.clone());
            }
            if !full {
                return Ok(replica);
            }
        }
    }

    async fn policy(&self) -> anyhow::Result<Policy> {
        Ok((*self.state.policy).clone())
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Runs the command line `line` for `caller`.
pub async fn run(state: &Arc<AppState>, caller: &Caller, line: &[u8]) -> Ran {
    let refuse = |text: String, code: u32| Ran {
        stdout: Vec::new(),
        stderr: format!("warroom: {text}\n").into_bytes(),
        code,
    };
    if line.len() > MAX_COMMAND {
        return refuse(
            format!(
                "the command is {} bytes long; the limit is {MAX_COMMAND}",
                line.len()
            ),
            2,
        );
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return refuse("the command is not valid UTF-8".into(), 2);
    };
    let Some(words) = shlex::split(text) else {
        return refuse(
            "the command has an unclosed quote or a trailing backslash".into(),
            2,
        );
    };
    let parsed = match SshCommand::try_parse_from(&words) {
        Ok(p) => p,
        Err(e) => {
            let shown = e.render().to_string();
            let code = e.exit_code();
            return if code == 0 {
                // `help`, `--help`: the answer, not an error.
                Ran {
                    stdout: shown.into_bytes(),
                    stderr: Vec::new(),
                    code: 0,
                }
            } else {
                Ran {
                    stdout: Vec::new(),
                    stderr: shown.into_bytes(),
                    code: u32::try_from(code).unwrap_or(2),
                }
            };
        }
    };
    let backend = InProcess { state, caller };
    let mut ran = Ran::default();
    let result = act::run_on(
        &backend,
        parsed.action,
        &mut Output {
            out: &mut ran.stdout,
            err: &mut ran.stderr,
        },
    )
    .await;
    match result {
        Ok(code) => ran.code = u32::try_from(code).unwrap_or(1),
        Err(e) => {
            ran.stderr
                .extend_from_slice(format!("warroom: {e:#}\n").as_bytes());
            ran.code = 1;
        }
    }
    ran
}
