//! The command line: one binary, subcommands. `warroom` alone opens the TUI.

pub mod act;
pub mod key;
pub mod migrate;
pub mod policy;
pub mod seat;
pub mod serve;
pub mod session;
pub mod token;
pub mod tui;
mod values;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version,
    about = "A terminal war room for incident response"
)]
pub struct Cli {
    /// Server to connect to; without it, an embedded server runs on a local
    /// SQLite file. Several, comma-separated (replicas of one deployment),
    /// are tried in turn when one cannot be reached.
    #[arg(long, global = true, env = "WARROOM_SERVER")]
    pub server: Option<String>,
    /// Bearer token for the server.
    #[arg(long, global = true, env = "WARROOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Config file (default: $XDG_CONFIG_HOME/warroom/config.toml).
    #[arg(long, global = true, env = "WARROOM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// A throwaway war room with a scripted incident unfolding live.
    Demo,
    /// Run the team server: HTTP API, live stream, escalation scheduler, public status page.
    Serve(ServeArgs),
    /// Validate or print incident policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Manage API tokens (on the server's database).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage the SSH keys that may sign in to the SSH seat (on the server's database).
    #[command(subcommand)]
    Key(KeyCmd),
    /// The SSH seat: `warroom ssh fingerprint` prints the host key's fingerprint.
    #[command(subcommand)]
    Ssh(SshCmd),
    /// Copy a SQLite log (events, tokens, keys) into an empty PostgreSQL
    /// database, exactly, and verify it by seq and count.
    Migrate(MigrateArgs),
    #[command(flatten)]
    Act(act::ActCmd),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The SQLite file to copy (the server should be stopped).
    #[arg(long)]
    pub from: std::path::PathBuf,
    /// The PostgreSQL database to copy into: `postgres://USER@HOST/DB`, empty.
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7777")]
    pub listen: String,
    /// The store: a SQLite file (created if missing; also `sqlite:PATH`) or
    /// a PostgreSQL URL (`postgres://USER@HOST/DB`) shared by several replicas.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "warroom.db",
        hide_env_values = true
    )]
    pub db: String,
    /// Policy file or preset name (default, 000…004).
    #[arg(long)]
    pub policy: Option<String>,
    /// Requests per second allowed per token, sustained (0 turns limiting off).
    #[arg(long, default_value_t = 50.0)]
    pub rate_limit: f64,
    /// Requests a token may send at once after a quiet spell.
    #[arg(long, default_value_t = 200.0)]
    pub rate_burst: f64,
    /// Also serve the public status page alone on this address (it is always
    /// on the API's listener under /status), so it can face the internet
    /// while the API does not.
    #[arg(long, value_name = "ADDR")]
    pub status_listen: Option<String>,
    /// Live streams one token may hold at once.
    #[arg(long, default_value_t = 32)]
    pub max_streams_per_token: usize,
    /// Live streams in all.
    #[arg(long, default_value_t = 4096)]
    pub max_streams: usize,
    /// Open connections at most (lowered to fit the open-file limit).
    #[arg(long, default_value_t = 8192)]
    pub max_connections: usize,
    /// Seconds a connection may take to send a request head, or sit idle
    /// between requests, before it is closed.
    #[arg(long, default_value_t = 10)]
    pub header_timeout: u64,
    /// Also open the SSH seat on this address (`0.0.0.0:2222`): the war room
    /// for anyone with OpenSSH and a key registered with `warroom key add`.
    #[arg(long, value_name = "ADDR")]
    pub ssh: Option<String>,
    /// SSH sessions at once, at most.
    #[arg(long, default_value_t = 256)]
    pub ssh_max_sessions: usize,
    /// Seconds an SSH war room session may go without input before it is closed.
    #[arg(long, default_value_t = 1800)]
    pub ssh_idle: u64,
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Register a person's SSH public key: `warroom key add --name alice --role commander ~/.ssh/id_ed25519.pub`.
    Add {
        /// The name the key signs in as: the actor of every event it writes.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "responder", ignore_case = true)]
        role: crate::domain::command::Access,
        /// The public key file (`.pub`), or `-` for standard input.
        file: PathBuf,
        /// The server's database (a file, or the postgres://… URL replicas
        /// share); without it ./warroom.db if there is one,
        /// else the embedded store in the data dir.
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// List the registered keys (names, roles, fingerprints).
    List {
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Revoke a key by name; its live SSH sessions end within a second.
    Revoke {
        name: String,
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SshCmd {
    /// Print the SSH host key's fingerprint (to check the one `ssh` shows on first connection).
    Fingerprint {
        /// The server's database (the host key is beside it).
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Validate a policy file; exits non-zero naming the line and the field.
    Check { file: PathBuf },
    /// Print the effective policy (the default when no file is given).
    Show {
        /// A policy file or preset name (default, 000…004).
        file: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
    },
    /// List the built-in presets.
    List,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    Toml,
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token and print it once; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "responder", ignore_case = true)]
        role: crate::domain::command::Access,
        /// The server's database (a file, or the postgres://… URL replicas
        /// share); without it ./warroom.db if there is one,
        /// else the embedded store in the data dir (what `warroom` runs on).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// List tokens (names and roles, never the secrets).
    List {
        /// The server's database (a file, or the postgres://… URL replicas
        /// share); without it ./warroom.db if there is one,
        /// else the embedded store in the data dir (what `warroom` runs on).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Revoke a token by name.
    Revoke {
        name: String,
        /// The server's database (a file, or the postgres://… URL replicas
        /// share); without it ./warroom.db if there is one,
        /// else the embedded store in the data dir (what `warroom` runs on).
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

/// Runs the parsed command line; the returned code is the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Cmd::Policy(cmd)) => Ok(policy::run(cmd)),
        Some(Cmd::Serve(args)) => serve::run(args),
        Some(Cmd::Token(cmd)) => token::run(cmd),
        Some(Cmd::Key(cmd)) => key::run(cmd),
        Some(Cmd::Ssh(cmd)) => key::run_ssh(cmd),
        Some(Cmd::Migrate(args)) => migrate::run(args),
        Some(Cmd::Act(cmd)) => {
            let (config, dirs) = load_config(cli.config.as_deref())?;
            log_to_file(&dirs);
            runtime()?.block_on(async move {
                let session = session::open(cli.server, cli.token, &config, &dirs).await?;
                let code = act::run(&session.api, cmd).await;
                session.close().await?;
                code
            })
        }
        Some(Cmd::Demo) => tui::run_demo(cli.config),
        None => tui::run_tui(cli.server, cli.token, cli.config),
    }
}

/// The config file (from `--config`, `WARROOM_CONFIG` or the XDG default) and the dirs.
pub fn load_config(
    path: Option<&std::path::Path>,
) -> anyhow::Result<(crate::config::Config, crate::config::Dirs)> {
    let dirs = crate::config::Dirs::discover().map_err(|e| anyhow::anyhow!(e))?;
    let file = path.map_or_else(|| dirs.config_file.clone(), std::path::Path::to_path_buf);
    let config = crate::config::Config::load(&file).map_err(|e| anyhow::anyhow!(e))?;
    Ok((config, dirs))
}

/// Client-side logs go to `$XDG_STATE_HOME/warroom/warroom.log`: never to the
/// terminal, which belongs to the TUI (or to the command's own output).
pub fn log_to_file(dirs: &crate::config::Dirs) {
    let Ok(()) = std::fs::create_dir_all(&dirs.state) else {
        return;
    };
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dirs.state.join("warroom.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
