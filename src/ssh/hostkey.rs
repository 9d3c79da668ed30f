//! The server's own SSH identity: one ed25519 host key, made on the first
//! start with `--ssh` and kept next to the database (mode 0600), so clients
//! see the same fingerprint on every restart and `known_hosts` stays valid.

use anyhow::Context as _;
use russh::keys::ssh_key::{self, HashAlg, LineEnding, PrivateKey};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The host key's file name, beside the database.
pub const HOST_KEY_FILE: &str = "ssh_host_ed25519_key";

/// Where the host key of the server on `db` lives.
pub fn path_for(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join(HOST_KEY_FILE)
}

/// `SHA256:…` of the host key, as `ssh` shows it on first connection.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

/// Reads the host key at `path`, or makes one there if there is none.
/// Returns the key and whether it was just created.
pub fn load_or_create(path: &Path) -> anyhow::Result<(PrivateKey, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            tighten(path)?;
            let key = PrivateKey::from_openssh(text.as_bytes())
                .with_context(|| format!("{}: not an OpenSSH private key", path.display()))?;
            if key.algorithm() != ssh_key::Algorithm::Ed25519 {
                anyhow::bail!(
                    "{}: the host key must be ed25519, not {}",
                    path.display(),
                    key.algorithm()
                );
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((create(path)?, true)),
        Err(e) => Err(e).with_context(|| format!("reading the host key {}", path.display())),
    }
}

/// Reads the host key at `path` (for `warroom ssh fingerprint`); never creates one.
pub fn load(path: &Path) -> anyhow::Result<PrivateKey> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "no host key at {} (it is made on the first `warroom serve --ssh ADDR`)",
            path.display()
        )
    })?;
    PrivateKey::from_openssh(text.as_bytes())
        .with_context(|| format!("{}: not an OpenSSH private key", path.display()))
}

fn create(path: &Path) -> anyhow::Result<PrivateKey> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the directory {}", dir.display()))?;
    }
    // rand's thread generator is a CSPRNG seeded from the OS.
    let seed: [u8; 32] = rand::random();
    let mut key = PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&seed));
    key.set_comment("warroom host key");
    let pem = key
        .to_openssh(LineEnding::LF)
        .context("encoding the host key")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the host key {}", path.display()))?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the host key {}", path.display()))?;
    Ok(key)
}

/// A host key readable by others is a host key others can impersonate:
/// put it back to 0600 (as `local.token` is).
fn tighten(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (0600)", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_the_same_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("warroom.db"));
        let (first, created) = load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(fingerprint(&first), fingerprint(&again));
        assert!(fingerprint(&first).starts_with("SHA256:"));
        assert_eq!(fingerprint(&load(&path).unwrap()), fingerprint(&first));
    }

    #[test]
    fn a_loosened_key_is_made_private_again_and_garbage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HOST_KEY_FILE);
        load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            load_or_create(&path).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains(HOST_KEY_FILE), "{err}");
    }
}
