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
    /// The demo company's public status page (components and name), laid
    /// over the default policy's `[status_page]`.
    #[serde(default)]
    pub status_page: Option<crate::domain::status_page::StatusPageConfig>,
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
    /// The default policy with the script's status page.
    pub fn policy(&self) -> crate::domain::Policy {
        let mut policy = crate::domain::Policy::builtin_default();
        if let Some(page) = &self.status_page {
            policy.status_page = page.clone();
        }
        policy
    }

    pub fn parse(text: &str) -> Result<Script, String> {
        let script: Script = toml::from_str(text).map_err(|e| e.to_string())?;
        script
            .policy()
            .validate()
            .map_err(|e| format!("the demo's policy: {e}"))?;
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{World, decide};

    /// Every step of the shipped script is accepted by the default policy, in order,
    /// by an actor whose role allows it: a typo in the script fails here, not in front of a newcomer.
    #[test]
    fn every_step_is_accepted_by_the_default_policy() {
        let script = Script::parse(SCRIPT).unwrap();
        let policy = script.policy();
        assert_eq!(policy.status_page.components.len(), 5);
        let mut world = World::default();
        let mut aliases: HashMap<String, Uuid> = HashMap::new();
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for (i, step) in script.steps.into_iter().enumerate() {
            let person = script.people.iter().find(|p| p.name == step.actor).unwrap();
            assert!(
                person.role >= step.action.required_access(),
                "step {}: {} may not {}",
                i + 1,
                person.name,
                step.action.name()
            );
            let now = t0 + chrono::Duration::milliseconds((step.at * 1000.0) as i64);
            let id = Uuid::new_v4();
            if let Some(a) = &step.alias {
                aliases.insert(a.clone(), id);
            }
            let cmd = Command {
                id,
                incident: step.incident.as_ref().map(|a| aliases[a].to_string()),
                occurred_at: step.backdate.map(|b| now - (b.after(now) - now)),
                action: step.action,
            };
            let events = decide(&world, &policy, &cmd, &step.actor, now)
                .unwrap_or_else(|e| panic!("step {} ({}) rejected: {e}", i + 1, cmd.action.name()));
            for ev in &events {
                world.apply(ev);
            }
        }
        assert_eq!(world.order.len(), 4, "four incidents declared");
        let checkout = world.resolve("INC-4").unwrap();
        assert_eq!(checkout.severity, "P1");
        assert!(checkout.contained.is_some());
    }

    /// What a person watching the demo's status page sees at the end of the
    /// script: the P1 with the comms lead's three template posts, from
    /// investigating to monitoring, Checkout and Payments degraded, and no
    /// note, name or internal text anywhere.
    #[test]
    fn the_status_page_follows_the_p1_to_monitoring_with_nothing_internal() {
        let script = Script::parse(SCRIPT).unwrap();
        let policy = script.policy();
        let mut world = World::default();
        let mut proj = crate::status::projection::Projection::default();
        let mut aliases: HashMap<String, Uuid> = HashMap::new();
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut seq = 0;
        let mut internal: Vec<String> = Vec::new();
        for step in script.steps {
            let now = t0 + chrono::Duration::milliseconds((step.at * 1000.0) as i64);
            let id = Uuid::new_v4();
            if let Some(a) = &step.alias {
                aliases.insert(a.clone(), id);
            }
            let cmd = Command {
                id,
                incident: step.incident.as_ref().map(|a| aliases[a].to_string()),
                occurred_at: step.backdate.map(|b| now - (b.after(now) - now)),
                action: step.action,
            };
            for ev in decide(&world, &policy, &cmd, &step.actor, now).unwrap() {
                world.apply(&ev);
                seq += 1;
                proj.apply(seq, &ev, &policy.status_page);
                if let crate::domain::EventBody::Note { text, .. } = &ev.body {
                    internal.push(text.clone());
                }
            }
        }
        let end = t0 + chrono::Duration::seconds(130);
        let page = crate::status::model::build(&proj, &policy, end);
        assert_eq!(page.incidents.len(), 1, "only the P1 has status-page posts");
        let p1 = &page.incidents[0].inc;
        assert_eq!(p1.status, crate::domain::Status::Monitoring);
        let states: Vec<&str> = p1.posts.iter().map(|p| p.state.as_str()).collect();
        assert_eq!(states, ["investigating", "identified", "monitoring"]);
        assert!(
            p1.posts[0]
                .body
                .starts_with("Checkout - Investigating Issues")
        );
        let status: Vec<(&str, &str)> = page
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("Checkout", "degraded_performance"),
                ("Payments", "degraded_performance"),
                ("Search", "operational"),
                ("Webhooks", "operational"),
                ("API documentation", "operational"),
            ]
        );
        let html = crate::status::html::render(&page);
        let json = serde_json::to_string(&crate::status::v2::summary(&page)).unwrap();
        assert!(!internal.is_empty());
        for text in internal
            .iter()
            .map(String::as_str)
            .chain(["alice", "bob", "carol", "dave", "erin"])
        {
            assert!(!html.contains(text), "page shows {text:?}");
            assert!(!json.contains(text), "JSON shows {text:?}");
        }
    }
}
