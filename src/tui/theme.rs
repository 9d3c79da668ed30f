//! Colour themes: TOML files of semantic roles (`sev1`, `timer_breached`,
//! `focus`…), embedded in the binary and overridable by a file of the same
//! name in the user's themes directory.
//!
//! Views never name a colour; they ask the theme for a role, so a theme is the
//! only place a palette lives. Colour is never the only signal anyway: every
//! coloured state also carries a word (OVERDUE, P1, ERROR…).

use crate::domain::clocks::ClockState;
use ratatui::style::Color;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// The embedded themes, `(name, toml)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
];

/// The theme used when none is configured.
pub const DEFAULT_THEME: &str = "dark";

macro_rules! roles {
    ($($(#[doc = $doc:literal])* $field:ident),+ $(,)?) => {
        /// Every semantic colour role a view may use.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Theme {
            /// The name it was loaded under (`dark`, or a user theme's file stem).
            pub name: String,
            $($(#[doc = $doc])* pub $field: Color,)+
        }

        /// The role names, as written in theme files.
        pub const ROLES: &[&str] = &[$(stringify!($field)),+];

        impl Theme {
            fn set(&mut self, key: &str, color: Color) -> bool {
                match key {
                    $(stringify!($field) => self.$field = color,)+
                    _ => return false,
                }
                true
            }

            /// `(role, colour)` for every role, in declaration order (for dumps and tests).
            pub fn roles(&self) -> Vec<(&'static str, Color)> {
                vec![$((stringify!($field), self.$field)),+]
            }

            fn blank(name: &str) -> Theme {
                Theme { name: name.to_string(), $($field: Color::Reset,)+ }
            }
        }
    };
}

roles! {
    /// Screen background (`reset` keeps the terminal's own).
    background,
    /// Ordinary text.
    text,
    /// Secondary text: timestamps, hints, empty values.
    muted,
    /// Panel borders.
    border,
    /// Panel titles and headings.
    title,
    /// The border of the focused panel, the active form field.
    focus,
    /// Background of the selected row.
    selection,
    /// Text of the selected row.
    selection_text,
    /// The worst severity.
    sev1,
    sev2,
    sev3,
    sev4,
    /// Any severity past the fourth.
    sev_other,
    /// A clock with time to spare.
    timer_ok,
    /// A clock in the last quarter of its span.
    timer_warn,
    /// A clock past due.
    timer_breached,
    /// A clock done in time.
    timer_met,
    /// Error messages (always with the word ERROR).
    error,
    /// Informational messages.
    info,
    /// Background of search matches.
    search,
    /// Commands queued but not yet confirmed by the server.
    pending,
    /// Connection: live.
    status_live,
    /// Connection: reconnecting.
    status_reconnecting,
    /// Connection: offline.
    status_offline,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    colors: BTreeMap<String, toml::Spanned<String>>,
}

impl Theme {
    /// The colour of a severity by its rank in the policy (0 = worst).
    pub fn severity(&self, rank: usize) -> Color {
        match rank {
            0 => self.sev1,
            1 => self.sev2,
            2 => self.sev3,
            3 => self.sev4,
            _ => self.sev_other,
        }
    }

    /// The colour of a clock state.
    pub fn clock(&self, state: ClockState) -> Color {
        match state {
            ClockState::Pending => self.timer_ok,
            ClockState::DueSoon => self.timer_warn,
            ClockState::Breached => self.timer_breached,
            ClockState::Met => self.timer_met,
        }
    }

    /// The theme for a terminal of 256 colours: every `#rrggbb` role becomes
    /// the nearest entry of the xterm 256-colour palette (the 6×6×6 cube or
    /// the grey ramp); named and indexed colours are kept. A truecolor
    /// terminal gets the theme as written.
    pub fn for_256_colours(mut self) -> Theme {
        let roles: Vec<(&'static str, Color)> = self.roles();
        for (role, color) in roles {
            if let Color::Rgb(r, g, b) = color {
                self.set(role, Color::Indexed(nearest_256(r, g, b)));
            }
        }
        self
    }

    /// Names of the embedded themes.
    pub fn names() -> Vec<&'static str> {
        EMBEDDED.iter().map(|(n, _)| *n).collect()
    }

    /// An embedded theme by name.
    pub fn embedded(name: &str) -> Option<Theme> {
        let (_, text) = EMBEDDED.iter().find(|(n, _)| *n == name)?;
        // Embedded themes are complete and checked by a test; parse cannot fail.
        Theme::parse(name, text, &format!("themes/{name}.toml"), None).ok()
    }

    /// Loads `name`: a file `NAME.toml` in `user_dir` overrides the embedded
    /// theme of the same name key by key (roles it leaves out come from the
    /// embedded one, or from `dark` for a theme of a new name). A broken user
    /// file, or an unknown name, yields the embedded theme plus a warning that
    /// names the file, the line and the key.
    pub fn load(name: &str, user_dir: Option<&Path>) -> (Theme, Option<String>) {
        let fallback = || {
            Theme::embedded(name)
                .or_else(|| Theme::embedded(DEFAULT_THEME))
                .unwrap_or_else(Theme::builtin)
        };
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{name}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let base = fallback();
                    let shown = path.display().to_string();
                    return match Theme::parse(name, &text, &shown, Some(&base)) {
                        Ok(t) => (t, None),
                        Err(e) => (base, Some(e)),
                    };
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return (fallback(), Some(format!("{}: {e}", path.display()))),
            }
        }
        match Theme::embedded(name) {
            Some(t) => (t, None),
            None => (
                fallback(),
                Some(format!(
                    "unknown theme {name:?}; themes: {}",
                    Theme::names().join(", ")
                )),
            ),
        }
    }

    /// Parses a theme file. `shown` is the path used in messages; `base`
    /// supplies roles the file leaves out (without one, every role is required).
    pub fn parse(
        name: &str,
        text: &str,
        shown: &str,
        base: Option<&Theme>,
    ) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!("line {}: ", line_of(text, s.start)))
                .unwrap_or_default();
            format!("{shown}: {line}{}", e.message().trim())
        })?;
        let mut theme = match base {
            Some(b) => Theme {
                name: name.to_string(),
                ..b.clone()
            },
            None => Theme::blank(name),
        };
        let mut spans: Vec<(&String, &toml::Spanned<String>)> = file.colors.iter().collect();
        spans.sort_by_key(|(_, v)| v.span().start);
        for (key, value) in spans {
            let line = line_of(text, value.span().start);
            let color = parse_color(value.get_ref()).ok_or_else(|| {
                format!(
                    "{shown}: line {line}: key {key}: unknown colour {:?} (use a name such as \"red\" or \"light blue\", \"#rrggbb\", or 0-255)",
                    value.get_ref()
                )
            })?;
            if !theme.set(key, color) {
                return Err(format!(
                    "{shown}: line {line}: unknown key {key:?}; the roles are {}",
                    ROLES.join(", ")
                ));
            }
        }
        if base.is_none()
            && let Some(missing) = ROLES.iter().find(|r| !file.colors.contains_key(**r))
        {
            return Err(format!("{shown}: [colors] lacks the role {missing}"));
        }
        Ok(theme)
    }

    /// A plain 16-colour theme used only if the embedded files were unreadable.
    fn builtin() -> Theme {
        let mut t = Theme::blank(DEFAULT_THEME);
        t.text = Color::Gray;
        t.muted = Color::DarkGray;
        t.title = Color::White;
        t.focus = Color::Cyan;
        t.selection = Color::DarkGray;
        t.selection_text = Color::White;
        t.sev1 = Color::Red;
        t.sev2 = Color::LightRed;
        t.sev3 = Color::Yellow;
        t.sev4 = Color::Blue;
        t.sev_other = Color::Gray;
        t.timer_ok = Color::Green;
        t.timer_warn = Color::Yellow;
        t.timer_breached = Color::Red;
        t.timer_met = Color::Cyan;
        t.error = Color::Red;
        t.info = Color::Cyan;
        t.search = Color::Yellow;
        t.pending = Color::Magenta;
        t.status_live = Color::Green;
        t.status_reconnecting = Color::Yellow;
        t.status_offline = Color::Red;
        t
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).unwrap_or(text).matches('\n').count() + 1
}

/// A colour name (`red`, `light blue`, `dark gray`), `#rrggbb`, an index 0–255, or `reset`.
pub fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("default") {
        return Some(Color::Reset);
    }
    Color::from_str(s).ok()
}

/// The xterm palette index closest to an RGB colour: the nearer of the
/// best 6×6×6 cube entry (16–231, levels 0, 95, 135, 175, 215, 255) and the
/// best grey (232–255, levels 8, 18, … 238), by squared distance.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let level = |v: u8| -> usize {
        let mut best = 0;
        for (i, l) in LEVELS.iter().enumerate() {
            if v.abs_diff(*l) < v.abs_diff(LEVELS[best]) {
                best = i;
            }
        }
        best
    };
    let dist = |a: (u8, u8, u8)| -> u32 {
        let d = |x: u8, y: u8| u32::from(x.abs_diff(y)).pow(2);
        d(a.0, r) + d(a.1, g) + d(a.2, b)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    let avg = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let grey_step = (avg.saturating_sub(3) / 10).min(23);
    let grey = (8 + 10 * grey_step) as u8;
    let index = if dist((grey, grey, grey)) < dist(cube) {
        232 + grey_step as usize
    } else {
        cube_index
    };
    index as u8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_theme_is_complete() {
        for (name, text) in EMBEDDED {
            let t = Theme::parse(name, text, name, None);
            assert!(t.is_ok(), "{name}: {t:?}");
        }
    }

    #[test]
    fn rgb_roles_map_to_the_256_palette_and_names_stay() {
        assert_eq!(nearest_256(0xff, 0x87, 0x00), 208);
        assert_eq!(nearest_256(0x5f, 0x5f, 0x00), 58);
        assert_eq!(nearest_256(0x30, 0x30, 0x30), 236);
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        let dark = Theme::embedded("dark").unwrap();
        let t = dark.clone().for_256_colours();
        assert!(
            t.roles().iter().all(|(_, c)| !matches!(c, Color::Rgb(..))),
            "{t:?}"
        );
        assert_eq!(t.sev2, Color::Indexed(208));
        assert_eq!(t.sev1, dark.sev1, "named colours are the terminal's own");
    }

    #[test]
    fn themes_differ() {
        let dark = Theme::embedded("dark").unwrap();
        for name in ["light", "high-contrast", "colorblind"] {
            assert_ne!(
                Theme::embedded(name).unwrap().roles(),
                dark.roles(),
                "{name}"
            );
        }
    }

    #[test]
    fn broken_user_theme_warns_with_line_and_key_and_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.toml"),
            "# mine\n[colors]\ntext = \"white\"\ntimer_ok = \"blurple\"\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load("dark", Some(dir.path()));
        let warning = warning.unwrap();
        assert!(
            warning.ends_with("dark.toml: line 4: key timer_ok: unknown colour \"blurple\" (use a name such as \"red\" or \"light blue\", \"#rrggbb\", or 0-255)"),
            "{warning}"
        );
        assert_eq!(theme, Theme::embedded("dark").unwrap());
    }

    #[test]
    fn user_theme_overrides_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.toml"),
            "[colors]\ntimer_ok = \"#010203\"\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load("dark", Some(dir.path()));
        assert_eq!(warning, None);
        assert_eq!(theme.timer_ok, Color::Rgb(1, 2, 3));
        assert_eq!(theme.sev1, Theme::embedded("dark").unwrap().sev1);
    }

    #[test]
    fn unknown_key_and_syntax_errors_name_the_line() {
        let e = Theme::parse("x", "[colors]\n\ntimer_okk = \"red\"\n", "x.toml", None).unwrap_err();
        assert!(
            e.starts_with("x.toml: line 3: unknown key \"timer_okk\""),
            "{e}"
        );
        let e = Theme::parse("x", "[colors]\ntext = \n", "x.toml", None).unwrap_err();
        assert!(e.starts_with("x.toml: line 2: "), "{e}");
    }

    #[test]
    fn unknown_theme_name_warns() {
        let (theme, warning) = Theme::load("neon", None);
        assert_eq!(theme.name, "dark");
        assert_eq!(
            warning.as_deref(),
            Some("unknown theme \"neon\"; themes: dark, light, high-contrast, colorblind")
        );
    }
}
