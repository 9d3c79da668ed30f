//! Reading the secrets a policy names. Only the delivery worker and `policy
//! check` call this; the values never reach the log, the timeline or an error
//! message (errors say which variable or file, never what it held).

use crate::domain::notify::SecretRef;

/// The secret's value, trimmed; an error names the variable or file.
pub fn read(secret: &SecretRef) -> Result<String, String> {
    let value = match secret {
        SecretRef::Env(name) => {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?
        }
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret file {path}: {e}"))?,
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(format!("{} is empty", secret.describe()));
    }
    Ok(value)
}

/// Every secret a policy's `[notify]` names that cannot be read now, as
/// `(field, problem)` (for `warroom policy check`).
pub fn missing(policy: &crate::domain::notify::NotifyPolicy) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, ch) in &policy.channels {
        for (field, secret) in ch.secrets() {
            if let Err(e) = read(secret) {
                out.push((format!("notify.channels.{name}.{field}"), e));
            }
        }
    }
    for (i, c) in policy.directory.iter().enumerate() {
        if let Some(secret) = &c.pagerduty
            && let Err(e) = read(secret)
        {
            out.push((format!("notify.directory[{i}].pagerduty"), e));
        }
    }
    out
}
