//! `warroom` with no subcommand: the TUI, on the session [`super::session::open`]
//! finds (a remote server, or the embedded one, joined when already running).

use super::seat::{Local, Seat};
use crate::tui::run::{JoinedCount, Options, run};
use anyhow::Context;

pub fn run_tui(
    server: Option<String>,
    token: Option<String>,
    config_path: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    let (config, dirs) = super::load_config(config_path.as_deref())?;
    super::log_to_file(&dirs);
    super::runtime()?.block_on(async move {
        let remote = server.is_some() || config.server.is_some();
        let session = super::session::open(server, token, &config, &dirs).await?;
        let local = if remote {
            None
        } else {
            Some(Local {
                data: dirs.data.clone(),
                policy: super::policy::load(config.policy.as_deref())?.policy,
                name: super::session::local_name(&config),
            })
        };
        let seat = Seat::new(session, local);
        let result = run(options(&seat, &config, &dirs)).await;
        seat.close().await?;
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
        let name = crate::demo::seat_name(&script, &super::session::local_name(&config));
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
        let mut notices = Vec::new();
        let player = match crate::demo::cast(&url, &token, &script).await {
            Ok(cast) => Some(tokio::spawn(async move {
                if let Err(e) = crate::demo::play_steps(cast, script).await {
                    tracing::error!("demo: {e:#}");
                }
            })),
            Err(e) => {
                tracing::error!("demo: {e:#}");
                notices.push(format!(
                    "the demo could not start its scripted responders: {e:#}"
                ));
                None
            }
        };
        let seat = Seat::new(session, None);
        let mut opts = options(&seat, &config, &dirs);
        opts.info.push(format!(
            "Public status page: {status_url} (open it in a browser to watch the P1)"
        ));
        opts.startup_errors = notices;
        let result = run(opts).await;
        if let Some(p) = player {
            p.abort();
        }
        println!("warroom demo: the status page was at {status_url} (gone with the demo's server)");
        seat.close().await?;
        drop(scratch);
        result.map(|()| 0)
    })
}

fn options(seat: &Seat, config: &crate::config::Config, dirs: &crate::config::Dirs) -> Options {
    Options {
        api: seat.api.clone(),
        outbox: seat.outbox.clone(),
        joined: Some(JoinedCount(std::sync::Arc::new(seat.joined_counter()))),
        startup_errors: Vec::new(),
        bell: config.bell,
        flash: config.flash.unwrap_or(true),
        theme: config.theme.clone().unwrap_or_else(|| "dark".into()),
        themes_dir: Some(dirs.themes.clone()),
        keys: config.keys.clone(),
        info: Vec::new(),
    }
}
