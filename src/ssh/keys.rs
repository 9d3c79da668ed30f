//! Reading a person's public key for `warroom key add`: one OpenSSH public
//! key line (`ssh-ed25519 AAAA… comment`, as in `~/.ssh/id_ed25519.pub`),
//! with a precise error when the file is something else.

use russh::keys::ssh_key::{HashAlg, PublicKey};

/// A public key ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey {
    /// `SHA256:…`, what logins are looked up by.
    pub fingerprint: String,
    /// The key in OpenSSH form, comment kept.
    pub openssh: String,
    /// `ssh-ed25519`, `ssh-rsa`, …
    pub algorithm: String,
}

/// The `SHA256:…` fingerprint of a public key.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Parses the text of a `.pub` file. Errors name the line and what is wrong.
pub fn parse_public_key(text: &str) -> Result<ParsedKey, String> {
    if text.contains("PRIVATE KEY-----") {
        return Err(
            "this is a private key; pass the public half (the .pub file beside it) — the private key never leaves its owner".into(),
        );
    }
    let mut found: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((first, _)) = found {
            return Err(format!(
                "line {}: one key per file (the first is on line {}); add each key under its own name",
                i + 1,
                first + 1
            ));
        }
        found = Some((i, line));
    }
    let Some((i, line)) = found else {
        return Err(
            "no public key in it (expected a line like `ssh-ed25519 AAAA… you@host`)".into(),
        );
    };
    let key = PublicKey::from_openssh(line).map_err(|e| {
        format!(
            "line {}: not an OpenSSH public key ({e}); expected a line like `ssh-ed25519 AAAA… you@host`",
            i + 1
        )
    })?;
    let openssh = key
        .to_openssh()
        .map_err(|e| format!("line {}: cannot encode the key: {e}", i + 1))?;
    Ok(ParsedKey {
        fingerprint: fingerprint(&key),
        algorithm: key.algorithm().to_string(),
        openssh,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ALICE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAp0zYeTPj5Nm9XnKXrHzYAV7RqLvtz7h7ZlSozTnzwj alice@laptop";

    #[test]
    fn a_pub_file_gives_its_fingerprint_and_keeps_the_comment() {
        let k = parse_public_key(&format!("# alice\n\n{ALICE}\n")).unwrap();
        // What `ssh-keygen -lf` prints for it.
        assert_eq!(
            k.fingerprint,
            "SHA256:Q/XLCpmNUgwVo+1q/qRTuedkBHGPKnS5qpQO5HsRCNM"
        );
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert_eq!(k.openssh, ALICE);
    }

    #[test]
    fn wrong_files_are_named_precisely() {
        let e = parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n").unwrap_err();
        assert!(e.contains("private key"), "{e}");
        let e = parse_public_key("").unwrap_err();
        assert!(e.contains("no public key"), "{e}");
        let e = parse_public_key("\nssh-ed25519 not-base64!! x\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = parse_public_key(&format!("{ALICE}\n{ALICE}\n")).unwrap_err();
        assert!(e.starts_with("line 2: one key per file"), "{e}");
    }
}
