//! `warroom` with no subcommand: the TUI, on the session [`super::session::open`]
//! finds (a remote server, or the embedded one, joined when already running).

use crate::tui::run::{Options, run};

pub fn run_tui(
    server: Option<String>,
    token: Option<String>,
    config_path: Option<std::path::PathBuf>,
) -> anyhow::Result<i32> {
    let (config, dirs) = super::load_config(config_path.as_deref())?;
    super::log_to_file(&dirs);
    super::runtime()?.block_on(async move {
        let session = super::session::open(server, token, &config, &dirs).await?;
        let result = run(Options {
            api: session.api.clone(),
            outbox: session.outbox.clone(),
            theme: config.theme.clone().unwrap_or_else(|| "dark".into()),
            themes_dir: Some(dirs.themes.clone()),
            keys: config.keys.clone(),
        })
        .await;
        session.close().await?;
        result.map(|()| 0)
    })
}
