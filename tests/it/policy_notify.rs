//! `warroom policy check` on a policy with a `[notify]` section, as the real
//! binary: the README's example passes when its secrets can be read, fails
//! naming each field whose secret cannot, and a secret written into the file
//! is refused with its line.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const DEFAULT: &str = include_str!("../../assets/policies/default.toml");
const EXAMPLE: &str = include_str!("../../assets/notify/example.toml");
const VARS: &[&str] = &[
    "WARROOM_SLACK_WEBHOOK_URL",
    "WARROOM_PAGERDUTY_ROUTING_KEY",
    "WARROOM_SMTP_USER",
    "WARROOM_SMTP_PASSWORD",
    "WARROOM_PD_KEY_ALICE",
    "WARROOM_PD_KEY_BACKUP",
];

fn check(text: &str, env: &[(&str, &str)], webhook_secret: Option<&str>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let secret = dir.path().join("webhook");
    if let Some(s) = webhook_secret {
        std::fs::write(&secret, s).unwrap();
    }
    let text = text.replace(
        "/run/secrets/warroom-webhook",
        &secret.display().to_string(),
    );
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warroom"));
    cmd.args(["policy", "check"]).arg(&file);
    for v in VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_readme_example_passes_when_every_secret_can_be_read() {
    let env: Vec<(&str, &str)> = VARS.iter().map(|v| (*v, "s3cr3t-value")).collect();
    let (code, out, err) = check(
        &format!("{DEFAULT}\n{EXAMPLE}"),
        &env,
        Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("notify      channels audit-webhook (Webhook), customer-email (Email)"),
        "{out}"
    );
    assert!(out.contains("5 routes; directory 3; 8 tries"), "{out}");
    assert!(out.contains("secrets     ok"), "{out}");
    assert!(!out.contains("s3cr3t-value") && !err.contains("s3cr3t-value"));
}

#[test]
fn a_secret_that_cannot_be_read_is_named_by_its_field() {
    let env: Vec<(&str, &str)> = VARS
        .iter()
        .filter(|v| **v != "WARROOM_PD_KEY_ALICE")
        .map(|v| (*v, "x"))
        .collect();
    let (code, _, err) = check(&format!("{DEFAULT}\n{EXAMPLE}"), &env, None);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "notify.directory[0].pagerduty: environment variable WARROOM_PD_KEY_ALICE is not set"
        ),
        "{err}"
    );
    assert!(
        err.contains("notify.channels.audit-webhook.secret: cannot read secret file"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn a_secret_written_into_the_file_is_refused_with_its_line() {
    let text = format!(
        "{DEFAULT}\n[notify.channels.chat]\ntype = \"slack\"\nwebhook_url = \"https://hooks.slack.com/services/T0/B0/XXXX\"\n"
    );
    let (code, _, err) = check(&text, &[], None);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("secrets are never written in the policy file"),
        "{err}"
    );
    let line = DEFAULT.lines().count() + 2;
    // The table holding it, by line (`FILE:LINE:`).
    assert!(
        err.contains(&format!(".toml:{line}:")),
        "line {line}: {err}"
    );
    assert!(err.contains("[notify.channels.chat]"), "{err}");
}
