//! The backend (`warroom serve`, and the TUI's embedded mode): the HTTP API of
//! [`crate::protocol`], the live SSE stream, the escalation scheduler, all on
//! one event store.
//!
//! Module map:
//! - [`state`]: the shared state — the decision model, the read model, the live broadcast.
//! - [`commands`]: the command pipeline (auth'd actor → `decide` → ordered, group-committed append).
//! - [`routes`]: the axum router and handlers; [`error`]: every error answer;
//!   [`extract`]: query, path and body extractors that reject into it.
//! - [`auth`]: bearer tokens, roles, the embedded single-user token; [`rate`]: per-token limits.
//! - [`stream`]: `GET /api/v1/stream`; [`scheduler`]: automatic escalations; [`openapi`]: the
//!   spec, generated from the types and [`routes::api_router`] (utoipa).
//! - [`ingest`]: `POST /api/v1/ingest/alertmanager` and `/api/v1/ingest/events/v2`.
//! - [`metrics`]: `GET /metrics` in the Prometheus text format.

pub mod auth;
pub mod checkpoint;
pub mod commands;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod rate;
pub mod routes;
pub mod scheduler;
pub mod state;
pub mod stream;
pub mod streams;

use crate::domain::command::Access;
use crate::domain::policy::Policy;
use crate::store::{EventLog, Location, PgStore, SqliteStore, Store, TokenStore};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use listen::ConnLimits;
pub use rate::RateLimit;

/// Everything `start` needs. [`ServerConfig::new`] gives the production defaults.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The store: a SQLite file (created with its directory if missing) or a
    /// PostgreSQL database shared with other replicas.
    pub db: Location,
    /// `host:port`; port 0 picks a free one (see [`RunningServer::addr`]).
    pub listen: String,
    pub policy: Policy,
    /// How often the live stream sends a heartbeat (server time, latest seq).
    pub heartbeat: Duration,
    /// Per-token request rate; `None` disables limiting (benchmarks, the embedded server).
    pub rate_limit: Option<RateLimit>,
    /// Embedded single-user mode only: create (or reuse) a token with this name
    /// and role on start, keeping its secret in `local.token` (mode 0600) next
    /// to the database. Refused unless `listen` is a loopback address, so a
    /// team server (`warroom serve`) never mints a token by itself — there an
    /// admin runs `warroom token create`.
    pub bootstrap_token: Option<(String, Access)>,
    /// Events buffered per live subscriber before it is told to resync.
    pub broadcast_capacity: usize,
    /// How long a verified token is trusted without asking the database again
    /// (a revocation through the API takes effect at once; through the CLI,
    /// on another process, within this time).
    pub token_cache_ttl: Duration,
    /// How long shutdown waits for in-flight requests before dropping them:
    /// a client stalled mid-request (frozen, suspended with Ctrl-Z) must not
    /// keep `warroom serve` from exiting on SIGTERM, nor a TUI from quitting.
    pub shutdown_grace: Duration,
    /// Most live streams one token (or SSH key) may hold at once; one more is
    /// refused with 429 naming the limit.
    pub max_streams_per_token: usize,
    /// Most live streams in all; one more is refused with 503 and Retry-After.
    pub max_streams: usize,
    /// Header/body timeouts and the connection cap (see [`listen`]).
    pub conn_limits: ConnLimits,
    /// A read-model checkpoint is written whenever the log has grown this
    /// many events past the last one (and on shutdown), so a restart folds
    /// at most this many (see [`checkpoint`]).
    pub checkpoint_every: u64,
    /// A second listener for the public status page alone (`--status-listen`),
    /// so it can face the internet while the API does not. The page is on the
    /// API's listener under `/status` either way.
    pub status_listen: Option<String>,
    /// The SSH seat (`--ssh ADDR`): off unless asked, and never on the
    /// embedded single-user server (refused with a bootstrap token).
    pub ssh: Option<crate::ssh::SshConfig>,
}

impl ServerConfig {
    pub fn new(db: impl Into<Location>, listen: impl Into<String>) -> ServerConfig {
        ServerConfig {
            db: db.into(),
            listen: listen.into(),
            policy: Policy::builtin_default(),
            heartbeat: Duration::from_secs(5),
            rate_limit: Some(RateLimit::default()),
            bootstrap_token: None,
            broadcast_capacity: 4096,
            token_cache_ttl: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(5),
            max_streams_per_token: 32,
            max_streams: 4096,
            conn_limits: ConnLimits::default(),
            checkpoint_every: 10_000,
            status_listen: None,
            ssh: None,
        }
    }
}

/// A server running on the current tokio runtime.
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<state::AppState>,
    stop: watch::Sender<bool>,
    http: Option<JoinHandle<std::io::Result<()>>>,
    scheduler: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    notifier: Option<JoinHandle<()>>,
    local_token: Option<String>,
    status: StatusTasks,
    ssh: Option<crate::ssh::RunningSsh>,
}

/// The status page's follower and, with `--status-listen`, its own listener.
struct StatusTasks {
    follower: Option<JoinHandle<()>>,
    addr: Option<SocketAddr>,
    http: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The public status page: `http://127.0.0.1:PORT/status/` on the API's
    /// listener, or the root of its own listener when one was asked for.
    pub fn status_url(&self) -> String {
        match self.status.addr {
            Some(addr) => format!("http://{addr}/"),
            None => format!("{}/status/", self.url()),
        }
    }

    /// The SSH seat's address, when `--ssh` was given.
    pub fn ssh_addr(&self) -> Option<SocketAddr> {
        self.ssh.as_ref().map(crate::ssh::RunningSsh::addr)
    }

    /// The SSH host key's `SHA256:…` fingerprint, when `--ssh` was given.
    pub fn ssh_fingerprint(&self) -> Option<&str> {
        self.ssh.as_ref().map(crate::ssh::RunningSsh::fingerprint)
    }

    /// The secret of the bootstrap token, when [`ServerConfig::bootstrap_token`] was set.
    pub fn local_token(&self) -> Option<&str> {
        self.local_token.as_deref()
    }

    /// Live streams open on this server now (each client window holds one):
    /// lets the window hosting the embedded server see who else depends on it.
    pub fn live_streams(&self) -> usize {
        // The client streams only: the broadcast also feeds in-process
        // subscribers (the status page), which are not windows.
        self.state.streams.total()
    }

    /// The log the server writes to (for tests and tools in the same process).
    pub fn store(&self) -> Arc<dyn EventLog> {
        self.state.store.clone()
    }

    /// The tokens the server authenticates against.
    pub fn token_store(&self) -> Arc<dyn TokenStore> {
        self.state.token_store.clone()
    }

    /// Ends live streams (each gets `event: shutdown`), stops accepting,
    /// waits for in-flight requests (at most [`ServerConfig::shutdown_grace`]),
    /// stops the scheduler, and commits and closes the store.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.state.announce_shutdown();
        if let Some(mut http) = self.http.take() {
            match tokio::time::timeout(self.state.config.shutdown_grace, &mut http).await {
                Ok(res) => res.context("the HTTP task failed")??,
                Err(_) => {
                    tracing::warn!(
                        grace = ?self.state.config.shutdown_grace,
                        "requests still in flight after the grace period; dropping them"
                    );
                    http.abort();
                }
            }
        }
        if let Some(mut http) = self.status.http.take() {
            match tokio::time::timeout(self.state.config.shutdown_grace, &mut http).await {
                Ok(res) => res.context("the status page's HTTP task failed")??,
                Err(_) => http.abort(),
            }
        }
        if let Some(ssh) = self.ssh.take() {
            ssh.stopped().await;
        }
        if let Some(s) = self.scheduler.take() {
            s.await.context("the scheduler task failed")?;
        }
        // Writes a last checkpoint, so the next start folds nothing.
        if let Some(c) = self.checkpointer.take() {
            c.await.context("the checkpoint task failed")?;
        }
        if let Some(f) = self.status.follower.take() {
            f.await.context("the status page's follower failed")?;
        }
        if let Some(n) = self.notifier.take() {
            n.await.context("the delivery worker failed")?;
        }
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || store.close())
            .await
            .context("closing the store")?;
        Ok(())
    }

    /// Resolves when the server stops on its own (it only does on an error).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        if let Some(http) = self.http.as_mut() {
            let res = http.await;
            self.http = None;
            res.context("the HTTP task failed")??;
        }
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Dropped without `shutdown()`: at least end streams and stop accepting.
        if !*self.stop.borrow() {
            let _ = self.stop.send(true);
            self.state.announce_shutdown();
        }
    }
}

/// Opens the store, folds the log into memory, binds, and starts serving.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    let store = open_store(&config.db).await?;
    start_with_store(config, store).await
}

/// Opens the store a server runs on: a SQLite file it holds alone, or a
/// PostgreSQL database it shares with the other replicas.
pub async fn open_store(db: &Location) -> anyhow::Result<Store> {
    let location = db.clone();
    let store = tokio::task::spawn_blocking(move || match location {
        Location::Sqlite(path) => {
            SqliteStore::open_exclusive(&path).map(|s| Store::of(Arc::new(s)))
        }
        Location::Postgres(url) => PgStore::open(&url).map(|s| Store::of(Arc::new(s))),
    })
    .await?
    .with_context(|| format!("opening the database {db}"))?;
    Ok(store)
}

/// Like [`start`], on a store the caller opened.
pub async fn start_with_store(config: ServerConfig, store: Store) -> anyhow::Result<RunningServer> {
    // Before binding: every connection is a descriptor, and the common 1,024
    // soft limit is far below what a server is allowed (the hard limit).
    let open_files = listen::raise_open_file_limit();
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;

    if config.ssh.is_some() && config.bootstrap_token.is_some() {
        anyhow::bail!(
            "the embedded single-user server does not open SSH; run `warroom serve --ssh ADDR` for a team server"
        );
    }
    let local_token = match &config.bootstrap_token {
        Some((name, role)) => {
            if !addr.ip().is_loopback() {
                anyhow::bail!(
                    "the embedded token is only for a server on loopback, not {addr}; create tokens with `warroom token create`"
                );
            }
            let dir = config
                .db
                .sqlite_path()
                .and_then(|p| p.parent())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            let (tokens, name, role) = (store.tokens.clone(), name.clone(), *role);
            Some(
                tokio::task::spawn_blocking(move || {
                    auth::bootstrap_local_token(&*tokens, &dir, &name, role)
                })
                .await??,
            )
        }
        None => None,
    };

    let (stop, stop_rx) = watch::channel(false);
    let config_status_listen = config.status_listen.clone();
    let state = state::AppState::load(config, store, stop_rx.clone()).await?;
    // Started from a checkpoint: the command ids before it, in the background.
    tokio::spawn(state::fill_known(state.clone()));
    let (status, follower) = crate::status::StatusService::start(&state);
    let app = routes::router(state.clone()).merge(crate::status::router(status.clone(), "/status"));
    let mut limits = state.config.conn_limits;
    limits.max_connections = listen::fit_cap(limits.max_connections, open_files);
    let status_tasks = match &config_status_listen {
        Some(addr) => {
            let (addr, http) = serve_status(addr, status, limits, stop_rx.clone()).await?;
            StatusTasks {
                follower: Some(follower),
                addr: Some(addr),
                http: Some(http),
            }
        }
        None => StatusTasks {
            follower: Some(follower),
            addr: None,
            http: None,
        },
    };

    let ssh = match state.config.ssh.clone() {
        Some(c) => Some(crate::ssh::start(state.clone(), c, stop_rx.clone()).await?),
        None => None,
    };
    let http = tokio::spawn(listen::serve(listener, app, limits, stop_rx.clone()));
    tokio::spawn(streams::sweep_revoked(
        state.clone(),
        state.config.token_cache_ttl,
        stop_rx.clone(),
    ));
    let checkpointer = tokio::spawn(checkpoint::run(
        state.clone(),
        state.config.checkpoint_every,
        stop_rx.clone(),
    ));
    let scheduler = tokio::spawn(scheduler::run(state.clone(), stop_rx.clone()));
    let notifier = tokio::spawn(crate::notify::worker::run(state.clone(), stop_rx));
    tracing::info!(%addr, policy = %state.policy.name, max_connections = limits.max_connections,
        checkpoint = ?state.loaded.checkpoint, folded = state.loaded.folded, "serving");
    Ok(RunningServer {
        addr,
        state,
        stop,
        http: Some(http),
        scheduler: Some(scheduler),
        checkpointer: Some(checkpointer),
        notifier: Some(notifier),
        local_token,
        status: status_tasks,
        ssh,
    })
}

/// Binds the status page's own listener (the page at `/`) and serves it
/// until the stop flag flips.
async fn serve_status(
    listen: &str,
    status: Arc<crate::status::StatusService>,
    limits: ConnLimits,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("--status-listen: cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let app = crate::status::router(status, "");
    // The same front door as the API: this one faces the internet.
    let http = tokio::spawn(listen::serve(listener, app, limits, stop));
    tracing::info!(%addr, "serving the status page");
    Ok((addr, http))
}
