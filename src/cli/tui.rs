//! `warroom` with no subcommand: the TUI, against `--server` or, without one,
//! an embedded server on a local SQLite file (so `cargo run` is a working war
//! room on a fresh machine). A second `warroom` started on the same machine
//! joins the first one's embedded server instead of opening the database twice.

use crate::client::api::Api;
use crate::config::{Config, Dirs};
use crate::domain::command::Access;
use crate::server::{self, ServerConfig, auth::LOCAL_TOKEN_FILE};
use crate::tui::run::{Options, run};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where the running embedded server's URL is written, for a second terminal to join.
const LOCAL_URL_FILE: &str = "local.url";

/// A file name for a server URL: one outbox per server.
fn outbox_name(url: &str) -> String {
    let s: String = url
        .trim_end_matches('/')
        .split("://")
        .last()
        .unwrap_or(url)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("outbox-{s}.jsonl")
}

/// The embedded server another `warroom` of this user already runs, if any answers.
async fn join_local(data: &Path) -> Option<Api> {
    let url = std::fs::read_to_string(data.join(LOCAL_URL_FILE)).ok()?;
    let token = std::fs::read_to_string(data.join(LOCAL_TOKEN_FILE)).ok()?;
    let api = Api::new(url.trim(), token.trim()).ok()?;
    api.me().await.ok().map(|_| api)
}

pub fn run_tui(
    server_url: Option<String>,
    token: Option<String>,
    config_path: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let dirs = Dirs::discover();
    let config = Config::load(config_path.as_deref().unwrap_or(&dirs.config_file))
        .map_err(|e| anyhow::anyhow!(e))?;
    let server_url = server_url.or(config.server.clone());
    let token = token.or(config.token.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let themes_dir = Some(dirs.themes.clone());
        let theme = config.theme.clone().unwrap_or_else(|| "dark".into());
        let keys = config.keys.clone();
        if let Some(url) = server_url {
            let token = token.context(
                "a token is needed for --server: --token, WARROOM_TOKEN or `token` in the config file",
            )?;
            let api = Api::new(&url, &token).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
            let outbox = dirs.data.join(outbox_name(&url));
            run(Options { api, outbox, theme, themes_dir, keys }).await?;
            return Ok(0);
        }
        let outbox = dirs.data.join("outbox-local.jsonl");
        if let Some(api) = join_local(&dirs.data).await {
            run(Options { api, outbox, theme, themes_dir, keys }).await?;
            return Ok(0);
        }
        let name = config
            .name
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "me".into());
        let mut cfg = ServerConfig::new(dirs.data.join("warroom.db"), "127.0.0.1:0");
        cfg.policy = super::serve::load_policy(config.policy.as_deref())?;
        cfg.rate_limit = None;
        cfg.bootstrap_token = Some((name, Access::Admin));
        let running = server::start(cfg).await?;
        let token = running
            .local_token()
            .context("the embedded server made no local token")?
            .to_string();
        let url = running.url();
        // Best effort: without it a second terminal starts its own server instead of joining.
        let _ = std::fs::write(dirs.data.join(LOCAL_URL_FILE), &url);
        let api = Api::new(&url, &token).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        let result = run(Options { api, outbox, theme, themes_dir, keys }).await;
        let url_file = dirs.data.join(LOCAL_URL_FILE);
        if std::fs::read_to_string(&url_file).is_ok_and(|u| u == url) {
            let _ = std::fs::remove_file(url_file);
        }
        running.shutdown().await?;
        result.map(|()| 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_names_are_file_safe_and_per_server() {
        assert_eq!(
            outbox_name("https://warroom.example.net:8443/"),
            "outbox-warroom.example.net_8443.jsonl"
        );
        assert_ne!(outbox_name("http://a:1"), outbox_name("http://a:2"));
    }
}
