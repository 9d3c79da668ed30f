//! The SSH seat: `warroom serve --ssh ADDR` lets anyone with OpenSSH and a
//! registered key into the war room — the full TUI, as themselves, with the
//! role their key was given — when the VPN, the SSO and the laptop with the
//! right binary are the first things to fail.
//!
//! Each SSH session is one more client of the server's in-process read
//! model: the same `Model`, `update` and `view` as the local TUI, fed the same
//! [`crate::client::sync::SyncMsg`]s from the store and the live broadcast
//! ([`feed`]), its commands decided by the server's own command path. Only the
//! team server opens SSH; the embedded single-user server never does.
//!
//! Module map:
//! - [`hostkey`]: the server's ed25519 host key beside the database, and its fingerprint.
//! - [`keys`]: reading a person's `.pub` file for `warroom key add`.
//! - [`server`]: the listener and the russh handler — public-key auth, refusals that say why.
//! - [`session`]: one channel: pty and env requests, then the TUI or a one-shot command.
//! - [`feed`]: the in-process data source and command path of a seat.
//! - [`input`]: client bytes → key, mouse and paste messages.
//! - [`exec`]: `ssh host incidents` and the other one-shot actions.

pub mod exec;
pub mod feed;
pub mod hostkey;
pub mod input;
pub mod keys;
pub mod server;
pub mod session;

use crate::server::state::AppState;
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the SSH seat runs. [`SshConfig::new`] gives the production defaults.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// `host:port`; port 0 picks a free one (see [`RunningSsh::addr`]).
    pub listen: String,
    /// The host key file (made on first start, mode 0600).
    pub host_key: PathBuf,
    /// Most SSH sessions at once (TUIs and one-shot commands); one more is
    /// told the seat is full, with the limit, before it gets a screen.
    pub max_sessions: usize,
    /// A TUI session with no input for this long is closed (saying so).
    pub idle: Duration,
    /// How long a session may leave its output unread (its SSH window full)
    /// before it is closed: a stalled client must not pin the server's memory.
    pub write_stall: Duration,
    /// How long every refused login attempt takes (constant, so a refusal
    /// tells an attacker nothing by its timing).
    pub auth_rejection_time: Duration,
    /// How often the key table is read for revocations while sessions run
    /// (`warroom key revoke` writes the database, maybe from another process).
    pub revoke_sweep: Duration,
}

impl SshConfig {
    /// The defaults, with the host key beside the database `db`.
    pub fn new(listen: impl Into<String>, db: &std::path::Path) -> SshConfig {
        SshConfig {
            listen: listen.into(),
            host_key: hostkey::path_for(db),
            max_sessions: 256,
            idle: Duration::from_secs(30 * 60),
            write_stall: Duration::from_secs(60),
            auth_rejection_time: Duration::from_millis(500),
            revoke_sweep: Duration::from_secs(1),
        }
    }
}

/// The SSH seat running beside the HTTP server.
pub struct RunningSsh {
    addr: SocketAddr,
    fingerprint: String,
    task: JoinHandle<()>,
    sweeper: JoinHandle<()>,
}

impl std::fmt::Debug for RunningSsh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSsh")
            .field("addr", &self.addr)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl RunningSsh {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host key's `SHA256:…` fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Waits for the listener to stop (after the stop flag flipped) and the
    /// revocation sweeper with it.
    pub async fn stopped(self) {
        let _ = self.task.await;
        let _ = self.sweeper.await;
    }
}

/// Loads (or makes) the host key, binds, and serves until `stop` flips.
pub async fn start(
    state: Arc<AppState>,
    config: SshConfig,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<RunningSsh> {
    let path = config.host_key.clone();
    let (key, created) = tokio::task::spawn_blocking(move || hostkey::load_or_create(&path))
        .await
        .context("the host key task failed")??;
    let fingerprint = hostkey::fingerprint(&key);
    if created {
        tracing::info!(path = %config.host_key.display(), %fingerprint, "made a new SSH host key");
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("--ssh: cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(server::Shared::new(state, config));
    let sweeper = tokio::spawn(server::sweep_revoked(shared.clone(), stop.clone()));
    let task = tokio::spawn(server::serve(listener, shared, key, stop));
    tracing::info!(%addr, %fingerprint, "serving the SSH seat");
    Ok(RunningSsh {
        addr,
        fingerprint,
        task,
        sweeper,
    })
}
