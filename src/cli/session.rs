//! Finding the server a client talks to: a remote one (`--server`, config), or
//! the embedded one on the local SQLite file — joined if another `warroom` on
//! this machine already runs it, started in-process otherwise.

use crate::client::Api;
use crate::config::{Config, Dirs};
use crate::domain::command::Access;
use crate::server::{self, RunningServer, ServerConfig};
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The file in the data dir naming the URL of the embedded server while it runs.
const LOCAL_ADDR_FILE: &str = "local.addr";

/// A client's connection: the API handle, and the embedded server if this process runs it.
pub struct Session {
    pub api: Api,
    pub url: String,
    pub embedded: Option<RunningServer>,
    /// This client's offline outbox journal.
    pub outbox: PathBuf,
    /// Where the embedded server's address file lives, removed on shutdown.
    addr_file: Option<PathBuf>,
}

impl Session {
    /// Stops the embedded server (if this process runs it), ending live streams cleanly.
    pub async fn close(self) -> anyhow::Result<()> {
        if let Some(file) = &self.addr_file {
            let _ = std::fs::remove_file(file);
        }
        if let Some(s) = self.embedded {
            s.shutdown().await?;
        }
        Ok(())
    }
}

/// The local user's name on the timeline: config `name`, else `$USER`, else `local`.
pub fn local_name(config: &Config) -> String {
    let raw = config
        .name
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "local".into());
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    if clean.is_empty() {
        "local".into()
    } else {
        clean
    }
}

/// Connects as the command line and config say.
pub async fn open(
    server_arg: Option<String>,
    token_arg: Option<String>,
    config: &Config,
    dirs: &Dirs,
) -> anyhow::Result<Session> {
    if let Some(url) = server_arg.or_else(|| config.server.clone()) {
        let token = token_arg.or_else(|| config.token.clone()).context(
            "a server is configured but no token: pass --token, set WARROOM_TOKEN, or put token = \"…\" in the config file",
        )?;
        let api = Api::new(&url, &token)?;
        let outbox = outbox_path(&dirs.data, &url, &token);
        return Ok(Session {
            api,
            url,
            embedded: None,
            outbox,
            addr_file: None,
        });
    }
    let policy = super::policy::load(config.policy.as_deref())?.policy;
    embedded(&dirs.data, policy, &local_name(config), true).await
}

/// Joins or starts the embedded server whose database lives in `data`.
/// `join` false always starts a fresh one (the demo's throwaway store).
pub async fn embedded(
    data: &Path,
    policy: crate::domain::Policy,
    name: &str,
    join: bool,
) -> anyhow::Result<Session> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let addr_file = data.join(LOCAL_ADDR_FILE);
    if join && let Some(session) = join_running(data, &addr_file, name).await {
        return Ok(session);
    }
    let mut config = ServerConfig::new(data.join("warroom.db"), "127.0.0.1:0");
    config.policy = policy;
    config.rate_limit = None;
    config.bootstrap_token = Some((name.to_string(), Access::Admin));
    let running = server::start(config).await?;
    let url = running.url();
    let token = running
        .local_token()
        .context("the embedded server made no local token")?
        .to_string();
    std::fs::write(&addr_file, &url).with_context(|| format!("writing {}", addr_file.display()))?;
    let api = Api::new(&url, &token)?;
    Ok(Session {
        api,
        outbox: outbox_path(data, "embedded", &token),
        url,
        embedded: Some(running),
        addr_file: Some(addr_file),
    })
}

/// Another `warroom` on this machine already serves this data dir: use it, so
/// two terminals share one live log instead of racing on one SQLite file.
async fn join_running(data: &Path, addr_file: &Path, name: &str) -> Option<Session> {
    let url = std::fs::read_to_string(addr_file).ok()?.trim().to_string();
    let token = std::fs::read_to_string(data.join(crate::server::auth::LOCAL_TOKEN_FILE))
        .ok()?
        .trim()
        .to_string();
    // Not just "something answers there": the address may be stale and the
    // port since taken by another warroom (another user's, another data dir).
    // Only a server that knows this data dir's token is ours to join; anything
    // else would answer every request 401.
    let ours = reqwest::Client::new()
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&token)
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    if !ours {
        return None;
    }
    let token = match seat_token(&url, &token, data, name).await {
        Some(own) => own,
        None => token,
    };
    let api = Api::new(&url, &token).ok()?;
    Some(Session {
        api,
        outbox: outbox_path(data, "embedded", &token),
        url,
        embedded: None,
        addr_file: None,
    })
}

/// The token this seat acts with when its config names someone other than
/// the embedded server's local user (`name = "dave"` in a second window's
/// config): its own token for that name, made with the local admin token on
/// first use and kept in `seats/NAME.token` (0600) for the next time. `None`
/// when the local token already is this name's, or when no token can be had
/// (the name was taken by a token whose secret is lost: names stay taken).
async fn seat_token(url: &str, local: &str, data: &Path, name: &str) -> Option<String> {
    let http = reqwest::Client::new();
    let me = |token: String| {
        let http = http.clone();
        async move {
            let resp = http
                .get(format!("{url}/api/v1/me"))
                .bearer_auth(&token)
                .timeout(std::time::Duration::from_millis(500))
                .send()
                .await
                .ok()?;
            resp.json::<crate::protocol::Me>().await.ok()
        }
    };
    if me(local.to_string()).await?.name == name {
        return None;
    }
    let file = data.join("seats").join(format!("{name}.token"));
    if let Ok(saved) = std::fs::read_to_string(&file) {
        let saved = saved.trim().to_string();
        if me(saved.clone()).await.is_some_and(|m| m.name == name) {
            return Some(saved);
        }
    }
    let resp = http
        .post(format!("{url}/api/v1/tokens"))
        .bearer_auth(local)
        .json(&crate::protocol::CreateToken {
            name: name.to_string(),
            role: Access::Commander,
        })
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        tracing::warn!(
            "seat {name:?}: cannot get a token of its own (HTTP {}); acting as the local user",
            resp.status()
        );
        return None;
    }
    let made: crate::protocol::NewToken = resp.json().await.ok()?;
    if let Err(e) = write_private(&file, &made.token) {
        tracing::warn!(
            "seat {name:?}: cannot keep its token in {}: {e}",
            file.display()
        );
    }
    Some(made.token)
}

/// Writes a secret readable by its owner only.
fn write_private(file: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(file)?;
    writeln!(f, "{secret}")
}

/// One outbox per server and identity, so queued commands replay where they belong.
fn outbox_path(data: &Path, server: &str, token: &str) -> PathBuf {
    let digest = Sha256::digest(format!("{server}\n{token}").as_bytes());
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    data.join("outbox").join(format!("{short}.jsonl"))
}
