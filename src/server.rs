//! The backend (`warroom serve`, and the TUI's embedded mode): the HTTP API of
//! [`crate::protocol`], the live SSE stream, the escalation scheduler, all on
//! one event store.
//!
//! Module map:
//! - [`state`]: the shared state — the decision model, the read model, the live broadcast.
//! - [`commands`]: the command pipeline (auth'd actor → `decide` → ordered, group-committed append).
//! - [`routes`]: the axum router and handlers; [`error`]: every error answer.
//! - [`auth`]: bearer tokens, roles, the embedded single-user token; [`rate`]: per-token limits.
//! - [`stream`]: `GET /api/v1/stream`; [`scheduler`]: automatic escalations; [`openapi`]: the spec.

pub mod auth;
pub mod commands;
pub mod error;
pub mod openapi;
pub mod rate;
pub mod routes;
pub mod scheduler;
pub mod state;
pub mod stream;

use crate::domain::command::Access;
use crate::domain::policy::Policy;
use crate::store::{EventStore, SqliteStore};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use rate::RateLimit;

/// Everything `start` needs. [`ServerConfig::new`] gives the production defaults.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// SQLite file; created (with its directory) if missing.
    pub db: PathBuf,
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
}

impl ServerConfig {
    pub fn new(db: impl Into<PathBuf>, listen: impl Into<String>) -> ServerConfig {
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
    local_token: Option<String>,
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

    /// The secret of the bootstrap token, when [`ServerConfig::bootstrap_token`] was set.
    pub fn local_token(&self) -> Option<&str> {
        self.local_token.as_deref()
    }

    /// Live streams open on this server now (each client window holds one):
    /// lets the window hosting the embedded server see who else depends on it.
    pub fn live_streams(&self) -> usize {
        self.state.live.receiver_count()
    }

    /// The store the server writes to (for tests and tools in the same process).
    pub fn store(&self) -> Arc<dyn EventStore> {
        self.state.store.clone()
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
        if let Some(s) = self.scheduler.take() {
            s.await.context("the scheduler task failed")?;
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
    let db = config.db.clone();
    let store: Arc<dyn EventStore> = Arc::new(
        tokio::task::spawn_blocking(move || SqliteStore::open_exclusive(&db))
            .await?
            .with_context(|| format!("opening the database {}", config.db.display()))?,
    );
    start_with_store(config, store).await
}

/// Like [`start`], on a store the caller opened.
pub async fn start_with_store(
    config: ServerConfig,
    store: Arc<dyn EventStore>,
) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;

    let local_token = match &config.bootstrap_token {
        Some((name, role)) => {
            if !addr.ip().is_loopback() {
                anyhow::bail!(
                    "the embedded token is only for a server on loopback, not {addr}; create tokens with `warroom token create`"
                );
            }
            let dir = config
                .db
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            let (store, name, role) = (store.clone(), name.clone(), *role);
            Some(
                tokio::task::spawn_blocking(move || {
                    auth::bootstrap_local_token(&*store, &dir, &name, role)
                })
                .await??,
            )
        }
        None => None,
    };

    let (stop, stop_rx) = watch::channel(false);
    let state = state::AppState::load(config, store, stop_rx.clone()).await?;
    let app = routes::router(state.clone());

    let mut http_stop = stop_rx.clone();
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    let scheduler = tokio::spawn(scheduler::run(state.clone(), stop_rx));
    tracing::info!(%addr, policy = %state.policy.name, "serving");
    Ok(RunningServer {
        addr,
        state,
        stop,
        http: Some(http),
        scheduler: Some(scheduler),
        local_token,
    })
}
