//! The user's config file and the XDG directories warroom uses.
//!
//! `$XDG_CONFIG_HOME/warroom/config.toml` (override with `--config` or
//! `WARROOM_CONFIG`):
//!
//! ```toml
//! server = "https://warroom.example.com"   # omit for the embedded local server
//! token = "wr_…"                           # or WARROOM_TOKEN
//! theme = "dark"                           # dark, light, high-contrast, colorblind, or a file in themes/
//! policy = "default"                       # embedded server only: preset name or a file path
//! name = "alice"                           # embedded server only: your name on the timeline
//!
//! [keys]                                   # key = action name, as listed by `?`
//! "ctrl-n" = "note"
//! ```

use etcetera::BaseStrategy;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub theme: Option<String>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Key overrides: key description → action name.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// Ring the terminal bell when something needs you (a clock turns
    /// OVERDUE, an escalation fires, you are paged or handed a role). Off by default.
    #[serde(default)]
    pub bell: bool,
    /// Flash the message line for the same moments. On by default.
    #[serde(default)]
    pub flash: Option<bool>,
}

/// Where warroom keeps things, following the XDG base directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    pub config_file: PathBuf,
    /// User themes overriding the embedded ones by name.
    pub themes: PathBuf,
    /// The embedded server's SQLite file, token and the outbox.
    pub data: PathBuf,
    /// Logs (never the terminal while the TUI runs).
    pub state: PathBuf,
}

impl Dirs {
    /// The XDG base directories (etcetera): `$XDG_*_HOME` when set to an
    /// absolute path, else the usual places under the home directory — found
    /// through `$HOME` or, without it, the user database; never the current
    /// directory.
    pub fn discover() -> Result<Dirs, String> {
        let xdg = etcetera::base_strategy::Xdg::new().map_err(|e| {
            format!("{e}: set HOME, or XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_STATE_HOME")
        })?;
        Ok(Dirs::from_strategy(&xdg))
    }

    /// The directories under a base strategy's.
    pub fn from_strategy(base: &impl BaseStrategy) -> Dirs {
        let config = base.config_dir().join("warroom");
        let data = base.data_dir().join("warroom");
        Dirs {
            config_file: config.join("config.toml"),
            themes: config.join("themes"),
            state: base
                .state_dir()
                .map_or_else(|| data.join("state"), |d| d.join("warroom")),
            data,
        }
    }
}

impl Config {
    /// Reads the config file; a missing file is an empty config, a broken one an
    /// error naming the file, line and key.
    pub fn load(path: &Path) -> Result<Config, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn missing_is_empty_and_broken_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("none.toml")),
            Ok(Config::default())
        );
        let bad = dir.path().join("config.toml");
        std::fs::write(&bad, "theme = \"dark\"\nsevrer = \"x\"\n").unwrap();
        let err = Config::load(&bad).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("sevrer"), "{err}");
        std::fs::write(&bad, "theme = \"dark\"\n[keys]\n\"ctrl-n\" = \"note\"\n").unwrap();
        let cfg = Config::load(&bad).unwrap();
        assert_eq!(cfg.keys.get("ctrl-n").map(String::as_str), Some("note"));
    }

    struct Fake;
    impl BaseStrategy for Fake {
        fn home_dir(&self) -> &Path {
            Path::new("/home/a")
        }
        fn config_dir(&self) -> PathBuf {
            "/cfg".into()
        }
        fn data_dir(&self) -> PathBuf {
            "/data".into()
        }
        fn cache_dir(&self) -> PathBuf {
            "/cache".into()
        }
        fn state_dir(&self) -> Option<PathBuf> {
            None
        }
        fn runtime_dir(&self) -> Option<PathBuf> {
            None
        }
    }

    #[test]
    fn each_dir_is_warroom_under_its_base_and_state_falls_back_to_data() {
        let d = Dirs::from_strategy(&Fake);
        assert_eq!(d.config_file, PathBuf::from("/cfg/warroom/config.toml"));
        assert_eq!(d.themes, PathBuf::from("/cfg/warroom/themes"));
        assert_eq!(d.data, PathBuf::from("/data/warroom"));
        assert_eq!(d.state, PathBuf::from("/data/warroom/state"));
    }
}
