//! Where the store lives, from `--db` / `DATABASE_URL`: a SQLite file (a
//! plain path or `sqlite:PATH`) or a PostgreSQL database (`postgres://…`,
//! `postgresql://…`). Anything else that looks like a URL is refused by name:
//! `--db mysql://x` must not quietly become a SQLite file in a directory
//! called `mysql:`.

use std::path::PathBuf;

/// A parsed `--db` value.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// The connection URL as given (passwords included; see [`Location::redacted`]).
    Postgres(String),
}

/// Why a `--db` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("the database location is empty; give a file path, sqlite:PATH or postgres://…")]
    Empty,
    #[error(
        "unknown database scheme {scheme:?} in {given:?}; this build knows a file path, sqlite:PATH and postgres://USER@HOST/DB"
    )]
    UnknownScheme { scheme: String, given: String },
    #[error("{given:?}: `sqlite:` needs a file path after it")]
    NoPath { given: String },
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Location {
        Location::Sqlite(path)
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Location {
        Location::Sqlite(path.clone())
    }
}

impl From<&std::path::Path> for Location {
    fn from(path: &std::path::Path) -> Location {
        Location::Sqlite(path.to_path_buf())
    }
}

impl Location {
    /// Parses a `--db` value. A scheme is letters, digits, `+`, `-` or `.`
    /// after a letter, then `:`; a one-letter scheme is a Windows drive
    /// (`C:\…`), so a path.
    pub fn parse(given: &str) -> Result<Location, LocationError> {
        let trimmed = given.trim();
        if trimmed.is_empty() {
            return Err(LocationError::Empty);
        }
        let scheme = trimmed.split_once(':').map(|(s, _)| s).filter(|s| {
            s.len() > 1
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        let Some(scheme) = scheme else {
            return Ok(Location::Sqlite(PathBuf::from(trimmed)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Location::Postgres(trimmed.to_string())),
            "sqlite" => {
                let rest = &trimmed[scheme.len() + 1..];
                // `sqlite:///abs/path` and `sqlite://rel` as well as `sqlite:path`.
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(LocationError::NoPath {
                        given: given.to_string(),
                    });
                }
                Ok(Location::Sqlite(PathBuf::from(path)))
            }
            other => Err(LocationError::UnknownScheme {
                scheme: other.to_string(),
                given: redact(given),
            }),
        }
    }

    /// The location with any password replaced by `***`, for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`; also a
/// `password=…` parameter.
fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((auth, host)) = rest.split_once('@')
        && let Some((user, _)) = auth.split_once(':')
    {
        out = format!("{scheme}://{user}:***@{host}");
    }
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map_or(out.len(), |j| i + j);
        out.replace_range(i + "password=".len()..end, "***");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sqlite_urls_are_files() {
        for (given, path) in [
            ("warroom.db", "warroom.db"),
            ("./data/w.db", "./data/w.db"),
            ("/var/lib/warroom/w.db", "/var/lib/warroom/w.db"),
            ("sqlite:w.db", "w.db"),
            ("sqlite:///var/w.db", "/var/w.db"),
            ("SQLite://rel/w.db", "rel/w.db"),
            ("C:\\data\\w.db", "C:\\data\\w.db"),
            ("dir/with:colon.db", "dir/with:colon.db"),
        ] {
            assert_eq!(
                Location::parse(given).unwrap(),
                Location::Sqlite(PathBuf::from(path)),
                "{given}"
            );
        }
    }

    #[test]
    fn postgres_urls_are_postgres() {
        for given in [
            "postgres://warroom@db/warroom",
            "postgresql://u:p@10.0.0.1:5432/w?sslmode=disable",
        ] {
            assert_eq!(
                Location::parse(given).unwrap(),
                Location::Postgres(given.to_string())
            );
        }
    }

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        let err = Location::parse("mysql://root:hunter2@db/w").unwrap_err();
        assert_eq!(
            err,
            LocationError::UnknownScheme {
                scheme: "mysql".into(),
                given: "mysql://root:***@db/w".into()
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("\"mysql\"") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(matches!(
            Location::parse("redis:foo"),
            Err(LocationError::UnknownScheme { .. })
        ));
        assert_eq!(Location::parse("  "), Err(LocationError::Empty));
        assert!(matches!(
            Location::parse("sqlite:"),
            Err(LocationError::NoPath { .. })
        ));
    }

    #[test]
    fn passwords_never_reach_the_display() {
        let loc = Location::parse("postgres://w:s3cret@db:5432/w").unwrap();
        assert_eq!(loc.to_string(), "postgres://w:***@db:5432/w");
        let loc = Location::parse("postgres://db/w?user=w&password=s3cret&x=1").unwrap();
        assert_eq!(loc.to_string(), "postgres://db/w?user=w&password=***&x=1");
        assert!(!format!("{loc:?}").contains("s3cret"));
    }
}
