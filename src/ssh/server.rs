//! The SSH listener and the per-connection russh handler.
//!
//! Authentication is by public key only, against the keys registered with
//! `warroom key add` (looked up by fingerprint on every login, so a revoked
//! key is refused at once). A password, or a key nobody registered, is
//! refused *with a line saying why*: OpenSSH shows nothing of a plain
//! rejection but "Permission denied", so the refusal goes through one round
//! of keyboard-interactive whose instruction text OpenSSH prints (no prompt
//! is asked), and only then is the door shut.

use super::SshConfig;
use super::session;
use crate::server::state::AppState;
use crate::server::streams::Principal;
use crate::store::KeyRecord;
use russh::keys::ssh_key::{HashAlg, PrivateKey, PublicKey};
use russh::server::{
    Auth, ChannelOpenHandle, Config, Handler, Msg, PublicKeyOffer, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::watch;

/// How long a connection may take to sign in.
const AUTH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// What every connection shares: the server's state, the seat's settings,
/// and the count of sessions (for the cap).
pub struct Shared {
    pub state: Arc<AppState>,
    pub config: SshConfig,
    sessions: AtomicUsize,
}

impl Shared {
    pub fn new(state: Arc<AppState>, config: SshConfig) -> Shared {
        Shared {
            state,
            config,
            sessions: AtomicUsize::new(0),
        }
    }

    /// A session slot, or `None` when the seat is full.
    pub fn take_slot(self: &Arc<Self>) -> Option<Slot> {
        let cap = self.config.max_sessions.max(1);
        self.sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < cap).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self.clone()))
    }

    /// Sessions running now.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Acquire)
    }
}

/// One session's place under the cap; given back when dropped.
pub struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts connections until `stop` flips; then every connection is told
/// the server is going away and dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    host_key: PrivateKey,
    mut stop: watch::Receiver<bool>,
) {
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::PublicKey);
    methods.push(MethodKind::KeyboardInteractive);
    let config = Arc::new(Config {
        methods,
        keys: vec![host_key],
        auth_rejection_time: shared.config.auth_rejection_time,
        // OpenSSH's first "none" probe is answered at once.
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        // Dead clients are found by keepalives; idle people by the seat's own limit.
        inactivity_timeout: None,
        keepalive_interval: Some(std::time::Duration::from_secs(30)),
        keepalive_max: 3,
        max_auth_attempts: 6,
        nodelay: true,
        ..Default::default()
    });
    loop {
        let accepted = tokio::select! {
            _ = stopped(&mut stop) => return,
            a = listener.accept() => a,
        };
        let (socket, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: pause rather than spin.
                tracing::warn!("ssh: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let signed_in = Arc::new(AtomicBool::new(false));
        let handler = Conn {
            shared: shared.clone(),
            peer,
            user: None,
            refused: Vec::new(),
            signed_in: signed_in.clone(),
        };
        let config = config.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let running = match russh::server::run_stream(config, socket, handler).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(%peer, "ssh: handshake failed: {e}");
                    return;
                }
            };
            let handle = running.handle();
            // A connection that has not signed in by then is dropped: held-open
            // handshakes must not pile up.
            let deadline = async {
                tokio::time::sleep(AUTH_DEADLINE).await;
                if signed_in.load(Ordering::Acquire) {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = deadline => {
                    tracing::info!(%peer, "ssh: not signed in within {AUTH_DEADLINE:?}; dropped");
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            format!("not signed in within {} s", AUTH_DEADLINE.as_secs()),
                            String::new(),
                        )
                        .await;
                }
                _ = stopped(&mut stop) => {
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            "the war room server is shutting down".into(),
                            String::new(),
                        )
                        .await;
                }
                res = running => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, "ssh: connection ended: {e}");
                    }
                }
            }
        });
    }
}

/// Resolves once the server's stop flag is set (or its sender is gone). The
/// flag's guard is dropped inside, so callers may await more afterwards.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Ends the live sessions of keys revoked behind the server's back
/// (`warroom key revoke` writes the database directly): while any session
/// runs, one read of the key table every `revoke_sweep`.
pub async fn sweep_revoked(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let period = shared
        .config
        .revoke_sweep
        .max(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = tokio::time::sleep(period) => {}
        }
        let holders: Vec<String> = shared
            .state
            .streams
            .principals()
            .into_iter()
            .filter_map(|p| match p {
                Principal::SshKey(n) => Some(n),
                Principal::Token(_) => None,
            })
            .collect();
        if holders.is_empty() {
            continue;
        }
        let store = shared.state.token_store.clone();
        let Ok(Ok(keys)) = tokio::task::spawn_blocking(move || store.list_keys()).await else {
            continue;
        };
        for k in keys
            .iter()
            .filter(|k| k.revoked && holders.contains(&k.name))
        {
            let n = shared.state.streams.end(
                &Principal::SshKey(k.name.clone()),
                &format!("SSH key {:?} was revoked", k.name),
            );
            tracing::info!(name = %k.name, sessions = n, "ended the revoked SSH key's sessions");
        }
    }
}

/// One SSH connection.
struct Conn {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// The registered key this connection proved it holds.
    user: Option<KeyRecord>,
    /// Fingerprints offered and refused, for the line that says why.
    refused: Vec<String>,
    /// Set once signed in (the connection task's sign-in deadline reads it).
    signed_in: Arc<AtomicBool>,
}

impl Conn {
    /// The live registered key with this public key, if any.
    async fn registered(&self, key: &PublicKey) -> anyhow::Result<Option<KeyRecord>> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let store = self.shared.state.token_store.clone();
        let found =
            tokio::task::spawn_blocking(move || store.key_by_fingerprint(&fingerprint)).await??;
        Ok(found.filter(|k| !k.revoked))
    }

    /// What a refused client is told (OpenSSH prints it before "Permission denied").
    fn refusal(&self) -> String {
        let how =
            "An admin registers a key with: warroom key add --name YOU --role responder KEY.pub";
        match self.refused.as_slice() {
            [] => format!(
                "warroom: this war room signs in with SSH keys only; passwords are not accepted. {how}"
            ),
            fps => format!(
                "warroom: no seat for the SSH key {} here (not registered, or revoked). {how}",
                fps.join(", ")
            ),
        }
    }
}

impl Handler for Conn {
    type Error = anyhow::Error;

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        tracing::info!(peer = %self.peer, user, "ssh: password refused");
        Ok(Auth::reject())
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.registered(offer.public_key).await?.is_some() {
            return Ok(Auth::Accept);
        }
        let fp = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        tracing::info!(peer = %self.peer, fingerprint = %fp, "ssh: unknown key refused");
        if !self.refused.contains(&fp) {
            self.refused.push(fp);
        }
        Ok(Auth::reject())
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        match self.registered(key.public_key).await? {
            Some(rec) => {
                tracing::info!(peer = %self.peer, name = %rec.name, role = rec.role.as_str(), "ssh: signed in");
                self.user = Some(rec);
                self.signed_in.store(true, Ordering::Release);
                Ok(Auth::Accept)
            }
            None => Ok(Auth::reject()),
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if response.is_none() {
            // No prompts: OpenSSH prints the instructions and answers at once.
            return Ok(Auth::Partial {
                name: Cow::Borrowed("warroom"),
                instructions: Cow::Owned(self.refusal()),
                prompts: Cow::Borrowed(&[]),
            });
        }
        // Said once; after this only a registered key gets in.
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::PublicKey);
        Ok(Auth::Reject {
            proceed_with_methods: Some(methods),
            partial_success: false,
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(user) = self.user.clone() else {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(session::run(self.shared.clone(), user, channel));
        Ok(())
    }

    // The requests themselves reach the session through its channel; here
    // they are only answered, as OpenSSH waits for the answer.
    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }
}
