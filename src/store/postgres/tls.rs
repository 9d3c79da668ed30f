//! TLS to PostgreSQL (rustls, the stack the rest of warroom already uses).
//!
//! A company's database usually sits on another machine, often a managed one
//! that requires TLS. The URL's `sslmode` decides whether TLS is used, as in
//! libpq: `disable` never, `prefer` (the default) when the server offers it,
//! `require` always; libpq's `verify-ca` and `verify-full` are accepted and
//! mean `require` here.
//!
//! Unlike libpq's `prefer` and `require`, the server's certificate is **always
//! verified** when TLS is used (host name included): the log holds what an
//! incident commander decided, and an unverified TLS session is one a
//! machine in the middle can read and write. The trusted roots are the file
//! named by `sslrootcert=` in the URL or by `PGSSLROOTCERT` (libpq's own
//! variable), else the public web PKI roots (webpki-roots). A server whose
//! certificate is not trusted fails with a message saying which of these to
//! set, never silently in plain text.

use super::StoreError;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector every connection of this process uses; set by
/// [`prepare`] when the store opens (a process opens one PostgreSQL
/// database: `serve --db`, `migrate --to`, or the token commands).
static CONNECTOR: OnceLock<MakeRustlsConnect> = OnceLock::new();

/// The connector for a new connection.
pub(super) fn connector() -> MakeRustlsConnect {
    CONNECTOR
        .get_or_init(|| build(None).unwrap_or_else(|_| fallback()))
        .clone()
}

/// A connector with the public roots only, for the (unreachable in
/// practice) case of a connection made before [`prepare`].
fn fallback() -> MakeRustlsConnect {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    MakeRustlsConnect::new(client_config(roots))
}

/// Rewrites `url` into what tokio-postgres parses (it knows neither
/// `sslrootcert` nor the `verify-*` modes) and sets up the connector with
/// the roots it names. Key=value strings are passed through unchanged.
pub(super) fn prepare(url: &str) -> Result<String, StoreError> {
    let (url, root_file) = rewrite(url);
    let root_file = root_file.or_else(|| std::env::var("PGSSLROOTCERT").ok());
    let connector = build(root_file.as_deref())?;
    let _ = CONNECTOR.set(connector);
    Ok(url)
}

/// Splits `sslrootcert=` off a `postgres://` URL and maps libpq's verify
/// modes to `require`.
fn rewrite(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut root = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (k, v) {
            ("sslrootcert", v) => root = Some(percent_decode(v)),
            ("sslmode", "verify-ca" | "verify-full") => kept.push("sslmode=require".to_string()),
            _ => kept.push(pair.to_string()),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, root)
}

/// `%2F`-style escapes, as a path in a URL query is written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn build(root_file: Option<&str>) -> Result<MakeRustlsConnect, StoreError> {
    let mut roots = RootCertStore::empty();
    match root_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    StoreError::Corrupt(format!("sslrootcert / PGSSLROOTCERT {path:?}: {e}"))
                })?;
            if certs.is_empty() {
                return Err(StoreError::Corrupt(format!(
                    "sslrootcert / PGSSLROOTCERT {path:?}: no PEM certificate in the file"
                )));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    StoreError::Corrupt(format!("sslrootcert / PGSSLROOTCERT {path:?}: {e}"))
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(MakeRustlsConnect::new(client_config(roots)))
}

fn client_config(roots: RootCertStore) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        // The ring provider supports the default versions; this cannot fail.
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        })
}

/// Adds what to do to a TLS failure's message.
pub(super) fn explain(e: tokio_postgres::Error) -> StoreError {
    let text = e.to_string();
    let tls = std::error::Error::source(&e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    if tls.contains("certificate") || tls.contains("InvalidCertificate") {
        StoreError::Corrupt(format!(
            "{text}: {tls}; the server's TLS certificate is not trusted: give its CA with \
             sslrootcert=/path/ca.pem in the URL or PGSSLROOTCERT, or sslmode=disable to \
             connect without TLS"
        ))
    } else {
        StoreError::from(e)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn libpq_options_tokio_postgres_does_not_know_are_rewritten() {
        assert_eq!(
            rewrite("postgres://w@db/w?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"),
            (
                "postgres://w@db/w?sslmode=require".to_string(),
                Some("/etc/ca.pem".to_string())
            )
        );
        assert_eq!(
            rewrite("postgres://w@db/w?sslrootcert=/ca.pem"),
            ("postgres://w@db/w".to_string(), Some("/ca.pem".to_string()))
        );
        assert_eq!(
            rewrite("postgres://w@db/w?sslmode=disable&application_name=x"),
            (
                "postgres://w@db/w?sslmode=disable&application_name=x".to_string(),
                None
            )
        );
        assert_eq!(
            rewrite("host=db user=w"),
            ("host=db user=w".to_string(), None)
        );
    }

    #[test]
    fn a_root_file_that_is_missing_or_not_pem_is_named() {
        let Err(e) = build(Some("/nonexistent/ca.pem")) else {
            panic!("a missing file was accepted")
        };
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let Err(e) = build(path.to_str()) else {
            panic!("a file without certificates was accepted")
        };
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
