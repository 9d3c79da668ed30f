//! `warroom` with no subcommand: the TUI, on the session [`super::session::open`]
//! finds (a remote server, or the embedded one, joined when already running).

use crate::tui::run::{Options, run};
use anyhow::Context;

pub fn run_tui(
    server: Option<String>,
    token: Option<String>,
    config_path: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    let (config, dirs) = super::load_config(config_path.as_deref())?;
    super::log_to_file(&dirs);
    super::runtime()?.block_on(async move {
        let session = super::session::open(server, token, &config, &dirs).await?;
        let result = run(options(&session, &config, &dirs)).await;
        session.close().await?;
        result.map(|()| 0)
    })
}

/// `warroom demo`: a throwaway store in a temporary directory, the embedded
/// server on it, the scripted scenario playing in the background as other
/// responders, and the TUI on top — the same code paths as a real session.
pub fn run_demo(config_path: Option<std::path::PathBuf>) -> anyhow::Result<i32> {
    let (config, dirs) = super::load_config(config_path.as_deref())?;
    super::log_to_file(&dirs);
    let script = crate::demo::Script::parse(crate::demo::SCRIPT)
        .map_err(|e| anyhow::anyhow!("the embedded demo script is broken: {e}"))?;
    let scratch = tempfile::Builder::new()
        .prefix("warroom-demo-")
        .tempdir()
        .context("creating the demo's temporary directory")?;
    super::runtime()?.block_on(async move {
        let policy = script.policy();
        let name = super::session::local_name(&config);
        let session = super::session::embedded(scratch.path(), policy, &name, false).await?;
        let status_url = session
            .embedded
            .as_ref()
            .map(crate::server::RunningServer::status_url)
            .context("the demo runs an embedded server")?;
        // Printed before the TUI takes the screen and again after it leaves,
        // and shown on the TUI's message line at start.
        println!("warroom demo: the public status page is at {status_url}");
        let token = session
            .embedded
            .as_ref()
            .and_then(|s| s.local_token())
            .context("the demo server made no local token")?
            .to_string();
        let url = session.url.clone();
        let player = tokio::spawn(async move {
            if let Err(e) = crate::demo::play(&url, &token, script).await {
                tracing::error!("demo: {e:#}");
            }
        });
        let mut opts = options(&session, &config, &dirs);
        opts.notices.push(format!(
            "Public status page: {status_url} (open it in a browser to watch the P1)"
        ));
        let result = run(opts).await;
        player.abort();
        println!("warroom demo: the status page was at {status_url} (gone with the demo's server)");
        session.close().await?;
        drop(scratch);
        result.map(|()| 0)
    })
}

fn options(
    session: &super::session::Session,
    config: &crate::config::Config,
    dirs: &crate::config::Dirs,
) -> Options {
    Options {
        api: session.api.clone(),
        outbox: session.outbox.clone(),
        theme: config.theme.clone().unwrap_or_else(|| "dark".into()),
        themes_dir: Some(dirs.themes.clone()),
        keys: config.keys.clone(),
        notices: Vec::new(),
    }
}
