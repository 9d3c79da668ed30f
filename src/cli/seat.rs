//! A TUI window's hold on its server, kept when the window hosting the
//! embedded server goes away.
//!
//! Several `warroom`s on one machine share one embedded server: the first
//! starts it, the others join it. When the host quits (or dies), the joined
//! windows must not stay OFFLINE for good: each one watches the server and,
//! once it stops answering, takes the embedded server over on the same data
//! directory (the database lock is free again) or joins whichever window got
//! there first. The sync tasks follow through [`Api::redirect`], so the live
//! stream resumes from its last seq and the outbox replays on the new server.

use super::session::{Session, embedded};
use crate::client::Api;
use crate::client::api::ClientError;
use crate::domain::Policy;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often a joined window checks that its host still answers.
const WATCH_EVERY: Duration = Duration::from_millis(750);

/// What it takes to start the embedded server again.
#[derive(Clone, Debug)]
pub struct Local {
    pub data: PathBuf,
    pub policy: Policy,
    pub name: String,
}

/// The session a window runs on, plus the server it may have taken over.
pub struct Seat {
    /// The API handle (shared with the TUI; redirected on a takeover).
    pub api: Api,
    /// The outbox journal of the session this window opened.
    pub outbox: PathBuf,
    /// The session this window opened with, when it needs closing (a host's, a remote one).
    opened: Option<Session>,
    /// The embedded server this window hosts: the one it started, or the one it took over.
    hosted: Arc<Mutex<Option<Session>>>,
    watcher: Option<JoinHandle<()>>,
}

impl Seat {
    /// Wraps `session`; a joined embedded session (`local` given, no server of
    /// its own) gets a watcher that takes over when the host goes away.
    pub fn new(session: Session, local: Option<Local>) -> Seat {
        let (api, outbox) = (session.api.clone(), session.outbox.clone());
        let hosted = Arc::new(Mutex::new(None));
        if session.embedded.is_some() {
            *hosted.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
            return Seat {
                api,
                outbox,
                opened: None,
                hosted,
                watcher: None,
            };
        }
        let watcher = local.map(|local| tokio::spawn(watch(api.clone(), local, hosted.clone())));
        Seat {
            api,
            outbox,
            opened: Some(session),
            hosted,
            watcher,
        }
    }

    /// Counts the other windows joined to the server this one hosts (0 when
    /// it hosts none), for the warning before quitting.
    pub fn joined_counter(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let hosted = self.hosted.clone();
        move || {
            hosted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .and_then(|s| s.embedded.as_ref())
                // One of the streams is this window's own.
                .map_or(0, |s| s.live_streams().saturating_sub(1))
        }
    }

    /// Stops watching, and stops the server this window hosts, if any.
    pub async fn close(self) -> anyhow::Result<()> {
        if let Some(w) = self.watcher {
            w.abort();
            let _ = w.await;
        }
        let hosted = self.hosted.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = hosted {
            s.close().await?;
        }
        if let Some(s) = self.opened {
            s.close().await?;
        }
        Ok(())
    }
}

/// Watches the host; when it stops answering, joins the server another
/// window has started since, or starts it here. Keeps watching a joined one
/// (its host may quit too); stops once this window hosts.
async fn watch(api: Api, local: Local, hosted: Arc<Mutex<Option<Session>>>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        match api.me().await {
            Err(ClientError::Unreachable(_)) => {}
            // Answering (even with an error): the host is there.
            _ => continue,
        }
        match embedded(&local.data, local.policy.clone(), &local.name, true).await {
            Ok(session) => {
                tracing::info!(
                    url = %session.url,
                    hosting = session.embedded.is_some(),
                    "the embedded server's host went away; carrying on"
                );
                // Keep acting as who this seat was, if the new server knows
                // the token (same store): only else take the session's.
                let own = api.token();
                api.redirect(&session.url, &own);
                let same = api.me().await.is_ok_and(|me| me.name == local.name);
                if !same {
                    api.redirect(&session.url, &session.api.token());
                }
                if session.embedded.is_some() {
                    *hosted.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
                    return;
                }
            }
            // Most often another joined window holds the lock and is starting
            // it: the next round joins that one.
            Err(e) => {
                tracing::info!("the embedded server's host went away; not yet taken over: {e:#}")
            }
        }
    }
}
