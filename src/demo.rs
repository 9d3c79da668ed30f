//! `warroom demo`: a scripted incident that unfolds live against a real
//! (embedded) server. The script (`assets/demo.toml`) is data; each step runs as
//! a named responder with their own token, over the same HTTP API any client uses.

use crate::client::Api;
use crate::domain::command::Access;
use crate::domain::duration::Span;
use crate::domain::{Action, Command};
use crate::protocol::{CreateToken, NewToken};
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

pub const SCRIPT: &str = include_str!("../assets/demo.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub people: Vec<Person>,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub name: String,
    pub role: Access,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds after the demo starts.
    pub at: f64,
    pub actor: String,
    /// For `declare`: a name later steps use as `incident`.
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub incident: Option<String>,
    /// Make the step look as if it happened this long ago.
    #[serde(default)]
    pub backdate: Option<Span>,
    pub action: Action,
}

impl Script {
    pub fn parse(text: &str) -> Result<Script, String> {
        let script: Script = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, step) in script.steps.iter().enumerate() {
            if !script.people.iter().any(|p| p.name == step.actor) {
                return Err(format!("step {}: unknown actor {:?}", i + 1, step.actor));
            }
        }
        Ok(script)
    }
}

/// Creates a token per person (with the admin token) and plays the script in
/// real time. Failures are logged, never fatal: the demo is a show, not a test.
pub async fn play(base: &str, admin_token: &str, script: Script) -> anyhow::Result<()> {
    let admin = reqwest::Client::new();
    let mut apis: HashMap<String, Api> = HashMap::new();
    for person in &script.people {
        let resp = admin
            .post(format!("{base}/api/v1/tokens"))
            .bearer_auth(admin_token)
            .json(&CreateToken {
                name: person.name.clone(),
                role: person.role,
            })
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            anyhow::bail!(
                "creating the demo token for {} failed: HTTP {status}",
                person.name
            );
        }
        let token: NewToken = resp.json().await?;
        apis.insert(person.name.clone(), Api::new(base, &token.token)?);
    }
    let start = tokio::time::Instant::now();
    let mut aliases: HashMap<String, Uuid> = HashMap::new();
    for step in script.steps {
        tokio::time::sleep_until(start + Duration::from_secs_f64(step.at.max(0.0))).await;
        let id = Uuid::new_v4();
        if let Some(alias) = &step.alias {
            aliases.insert(alias.clone(), id);
        }
        let incident = step
            .incident
            .as_ref()
            .map(|a| aliases.get(a).map_or_else(|| a.clone(), Uuid::to_string));
        let occurred_at = step.backdate.map(|b| {
            let now = Utc::now();
            now - (b.after(now) - now)
        });
        let cmd = Command {
            id,
            incident,
            action: step.action,
            occurred_at,
        };
        let Some(api) = apis.get(&step.actor) else {
            continue;
        };
        if let Err(e) = api.send(&cmd).await {
            tracing::warn!("demo step at {}s by {}: {e}", step.at, step.actor);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_script_parses() {
        let script = super::Script::parse(super::SCRIPT);
        assert!(script.is_ok(), "{script:?}");
    }
}
