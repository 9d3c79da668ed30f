//! A real PostgreSQL for the tests: `WARROOM_TEST_PG` (a URL to a server the
//! tests may create databases on; `.ci/run` starts one and sets it), else a
//! throwaway cluster this test process starts itself with `initdb` and
//! `pg_ctl` (found on PATH or under /usr/lib/postgresql/*/bin), in a temp
//! dir, as the `postgres` user when running as root (initdb refuses root).
//! The cluster stops and its directory is removed when the process exits.
//!
//! Every test gets a database of its own ([`fresh_db`]). Without PostgreSQL:
//! under `CI=true` the test FAILS; elsewhere it prints what it skipped and why.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The admin URL of the server (`…/postgres`), or why there is none.
fn server() -> &'static Result<String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("WARROOM_TEST_PG")
            && !url.trim().is_empty()
        {
            return Ok(url);
        }
        start_cluster()
    })
}

/// A new, empty database for one test, or `None` (after saying why) when
/// there is no PostgreSQL and this is not CI.
pub fn fresh_db(test: &str) -> Option<String> {
    match server() {
        Ok(admin) => Some(create_db(admin)),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("{test}: PostgreSQL is required under CI=true: {why}");
            }
            eprintln!(
                "SKIPPED {test}: no PostgreSQL ({why}); set WARROOM_TEST_PG=postgres://… or install PostgreSQL (initdb, pg_ctl)"
            );
            None
        }
    }
}

fn create_db(admin: &str) -> String {
    let name = format!("wr_{}", uuid::Uuid::new_v4().simple());
    // On a thread of its own: the caller may be async code, where a nested
    // runtime's block_on panics.
    let (admin_owned, name_owned) = (admin.to_string(), name.clone());
    std::thread::spawn(move || run_create(&admin_owned, &name_owned))
        .join()
        .unwrap();
    replace_db(admin, &name)
}

fn run_create(admin: &str, name: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL {admin}: {e}"));
        let driver = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        drop(client);
        let _ = driver.await;
    });
}

/// `postgres://u@h:p/postgres?x` → `postgres://u@h:p/NAME?x`.
fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

fn find_bin(name: &str) -> Option<PathBuf> {
    if let Ok(out) = Command::new("which").arg(name).output()
        && out.status.success()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !p.is_empty() {
            return Some(PathBuf::from(p));
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL program, as `postgres` when we are root.
fn pg_command(bin: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start_cluster() -> Result<String, String> {
    start_cluster_with(false).map(|(url, _)| url)
}

/// A throwaway cluster of its own that accepts TCP connections **only over
/// TLS** (`hostssl` in pg_hba.conf), with a server certificate for
/// `localhost` / 127.0.0.1 signed by a test CA made here with `openssl`.
/// Returns the admin URL (without any `sslmode`) and the CA's PEM file.
pub fn start_tls_cluster() -> Result<(String, PathBuf), String> {
    let (url, dir) = start_cluster_with(true)?;
    Ok((url, dir.join("tls").join("ca.pem")))
}

/// Makes a CA and a server certificate for localhost in `dir` with openssl.
fn make_certs(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ext = dir.join("ext.cnf");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=warroom test CA",
        ],
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("running openssl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "openssl {}: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    // PostgreSQL refuses a key others can read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .map_err(|e| format!("server.key: {e}"))?;
    Ok(())
}

fn start_cluster_with(tls: bool) -> Result<(String, PathBuf), String> {
    let initdb =
        find_bin("initdb").ok_or("initdb not found on PATH nor in /usr/lib/postgresql/*/bin")?;
    let pg_ctl = find_bin("pg_ctl").ok_or("pg_ctl not found")?;
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("warroom-pg-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let data = dir.join("data");
    if tls {
        make_certs(&dir.join("tls"))?;
    }
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("cannot chown {} to postgres", dir.display()));
        }
    }
    let out = pg_command(&initdb, root)
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        .output()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut opts = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=400",
        dir.display()
    );
    if tls {
        let t = dir.join("tls");
        opts.push_str(&format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            t.join("server.crt").display(),
            t.join("server.key").display()
        ));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| format!("pg_hba.conf: {e}"))?;
    }
    let out = pg_command(&pg_ctl, root)
        .arg("-D")
        .arg(&data)
        .args(["-o", &opts, "-l"])
        .arg(dir.join("log"))
        .args(["-w", "-t", "60", "start"])
        .output()
        .map_err(|e| format!("running pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}{log}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Stops the cluster and removes it once this test process is gone.
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {as_pg}{ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        as_pg = if root { "runuser -u postgres -- " } else { "" },
        ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    Ok((
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        dir,
    ))
}

#[test]
fn database_names_replace_the_path() {
    assert_eq!(
        replace_db("postgres://p@h:5/postgres?sslmode=disable", "x"),
        "postgres://p@h:5/x?sslmode=disable"
    );
    assert_eq!(replace_db("postgres://p@h:5", "x"), "postgres://p@h:5/x");
}
