//! `warroom serve --db postgres://…` to a PostgreSQL that accepts TCP only
//! over TLS: with the CA given (`sslrootcert=` or `PGSSLROOTCERT`) it runs;
//! without it the server's certificate is not trusted and `serve` says what
//! to set; without TLS the server refuses. Under `CI=true` a missing
//! PostgreSQL or openssl fails the test.

use crate::support::pg::start_tls_cluster;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Runs `serve` on `db` until it listens (→ Ok) or exits (→ Err(stderr)).
fn serve(db: &str, env: &[(&str, &str)]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PGSSLROOTCERT")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("warroom: listening on ") {
            child.kill().unwrap();
            child.wait().unwrap();
            return Ok(());
        }
        text.push_str(&line);
        text.push('\n');
        assert!(
            Instant::now() < deadline,
            "serve neither listened nor exited: {text}"
        );
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "serve exited 0 without listening: {text}"
    );
    Err(text)
}

#[test]
fn serve_reaches_postgresql_over_verified_tls_only() {
    let (admin, ca) = match start_tls_cluster() {
        Ok(v) => v,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("PostgreSQL with TLS is required under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED serve_reaches_postgresql_over_verified_tls_only: {why}");
            return;
        }
    };
    let ca = ca.to_str().unwrap();
    // localhost: the certificate's name is checked, as libpq's verify-full does.
    let url = admin.replace("127.0.0.1", "localhost");

    // The CA in the URL, libpq's spelling of the strictest mode.
    serve(&format!("{url}?sslmode=verify-full&sslrootcert={ca}"), &[]).unwrap();
    // The CA from libpq's environment variable; TLS when offered (prefer).
    serve(&url, &[("PGSSLROOTCERT", ca)]).unwrap();

    // No CA: the certificate is not trusted, and the message says what to set.
    let err = serve(&format!("{url}?sslmode=require"), &[]).unwrap_err();
    assert!(
        err.contains("not trusted") && err.contains("sslrootcert") && err.contains("PGSSLROOTCERT"),
        "{err}"
    );
    // Without TLS this server refuses the connection (hostssl only).
    let err = serve(&format!("{url}?sslmode=disable"), &[]).unwrap_err();
    assert!(
        err.contains("pg_hba.conf") || err.contains("SSL") || err.contains("encryption"),
        "{err}"
    );
    // A CA file that is not there is named.
    let err = serve(&format!("{url}?sslrootcert=/nonexistent/ca.pem"), &[]).unwrap_err();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}
