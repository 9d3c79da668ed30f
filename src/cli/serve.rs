//! `warroom serve`: the team server, a thin wrapper around [`crate::server::start`].

use super::ServeArgs;
use crate::server::{self, ServerConfig};
use anyhow::Context;

fn rate_limit(per_sec: f64, burst: f64) -> anyhow::Result<Option<server::RateLimit>> {
    if !per_sec.is_finite() || per_sec < 0.0 {
        anyhow::bail!(
            "--rate-limit must be a number of requests per second, 0 or more (got {per_sec})"
        );
    }
    if per_sec == 0.0 {
        return Ok(None);
    }
    if !burst.is_finite() || burst < 1.0 {
        anyhow::bail!("--rate-burst must be at least 1 (got {burst})");
    }
    Ok(Some(server::RateLimit { per_sec, burst }))
}

/// Logs go to stderr; `RUST_LOG` overrides the default `info`. Coloured only
/// when stderr is a terminal: a log file (`2>server.log`, journald, docker)
/// must not carry ANSI escape codes.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    init_logging();
    let policy = super::policy::load(args.policy.as_deref())?.policy;
    // A secret that cannot be read does not stop the server (the war room
    // matters more than one channel), but it is said now, not at the first page.
    for (field, problem) in crate::notify::secrets::missing(&policy.notify) {
        tracing::warn!(
            "notify: {field}: {problem}; deliveries through it will fail until it is fixed"
        );
    }
    let db = crate::store::Location::parse(&args.db).map_err(|e| anyhow::anyhow!("--db: {e}"))?;
    let mut config = ServerConfig::new(db, args.listen);
    config.policy = policy;
    config.rate_limit = rate_limit(args.rate_limit, args.rate_burst)?;
    config.status_listen = args.status_listen;
    config.max_streams_per_token = args.max_streams_per_token;
    config.max_streams = args.max_streams;
    config.conn_limits.max_connections = args.max_connections;
    config.conn_limits.header_timeout = std::time::Duration::from_secs(args.header_timeout.max(1));
    if let Some(addr) = &args.ssh {
        // Beside the SQLite file; with PostgreSQL, in the working directory
        // (give every replica the same key file for one fingerprint).
        let beside = config.db.sqlite_path().map_or_else(
            || std::path::PathBuf::from("warroom.db"),
            |p| p.to_path_buf(),
        );
        let mut ssh = crate::ssh::SshConfig::new(addr.clone(), &beside);
        ssh.max_sessions = args.ssh_max_sessions.max(1);
        ssh.idle = std::time::Duration::from_secs(args.ssh_idle.max(1));
        config.ssh = Some(ssh);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let mut running = server::start(config).await?;
        // Tests and scripts read the port from this exact line.
        eprintln!("warroom: listening on {}", running.url());
        eprintln!("warroom: status page on {}", running.status_url());
        if let (Some(addr), Some(fp)) = (running.ssh_addr(), running.ssh_fingerprint()) {
            // Tests read the port from this line too; people compare the
            // fingerprint with the one `ssh` shows on first connection.
            eprintln!("warroom: ssh seat on {addr} (host key {fp})");
        }
        tokio::select! {
            signal = shutdown_signal() => {
                let name = signal?;
                tracing::info!("{name}: shutting down");
                running.shutdown().await?;
                Ok(0)
            }
            res = running.wait() => {
                res?;
                Ok(1)
            }
        }
    })
}

/// Resolves on SIGINT or SIGTERM with the signal's name.
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        Ok("Ctrl-C")
    }
}
