//! `warroom serve --db`: a file path, `sqlite:PATH` or a PostgreSQL URL;
//! any other scheme is refused by name. (Before, `--db postgres://x` quietly
//! created a SQLite file in a directory called `postgres:`.)
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn serve(dir: &std::path::Path, db: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_unknown_scheme_is_refused_by_name_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = serve(dir.path(), "mysql://root:hunter2@db/warroom");
    assert_ne!(code, Some(0));
    assert!(
        err.contains("--db: unknown database scheme \"mysql\""),
        "{err}"
    );
    assert!(
        !err.contains("hunter2"),
        "the password is never printed: {err}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn a_postgres_url_is_postgres_not_a_directory_named_postgres() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let (code, err) = serve(dir.path(), "postgres://warroom:s3cret@127.0.0.1:1/warroom");
    assert_ne!(code, Some(0));
    assert!(
        err.contains("opening the database postgres://warroom:***@127.0.0.1:1/warroom"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[test]
fn database_url_is_read_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir.path())
        .env("DATABASE_URL", "redis://cache/0")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("unknown database scheme \"redis\""), "{err}");
}
