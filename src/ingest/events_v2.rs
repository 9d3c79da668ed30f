//! The PagerDuty Events API v2 shape
//! (<https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>), so
//! anything that can page PagerDuty — Grafana, Datadog, Zabbix, Alertmanager's
//! own `pagerduty_configs` with a `url:` — can send to warroom.
//!
//! Such senders cannot set headers: the `routing_key` is the integration
//! token's secret (checked by the server). One `dedup_key` is one alert and
//! one group: a trigger fires it, a resolve clears it, an acknowledge
//! acknowledges the incident it opened.

use super::parse;
use crate::domain::alert::{Alert, AlertBatch, AlertError, AlertSource};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// PagerDuty's limit on `payload.summary`.
pub const MAX_SUMMARY: usize = 1024;
/// PagerDuty's limit on `dedup_key`.
pub const MAX_DEDUP_KEY: usize = 255;

#[derive(Debug, Deserialize)]
pub struct EventV2 {
    #[serde(default)]
    pub routing_key: Option<String>,
    #[serde(default)]
    pub event_action: Option<String>,
    #[serde(default)]
    pub dedup_key: Option<String>,
    #[serde(default)]
    pub payload: Option<Payload>,
    #[serde(default)]
    pub links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct Payload {
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub custom_details: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub href: Option<String>,
}

/// PagerDuty's answer to an accepted event (HTTP 202).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = EventsV2Accepted)]
pub struct Accepted {
    pub status: String,
    pub message: String,
    pub dedup_key: String,
}

/// PagerDuty's answer to a refused event (HTTP 400, and 401/413/429 here too).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = EventsV2Refused)]
pub struct Refused {
    pub status: String,
    pub message: String,
    pub errors: Vec<String>,
}

impl Refused {
    pub fn invalid(errors: Vec<String>) -> Refused {
        Refused {
            status: "invalid event".into(),
            message: "Event object is invalid".into(),
            errors,
        }
    }
}

/// A parsed event: its routing key (checked by the server) and its batch.
#[derive(Debug)]
pub struct Parsed {
    pub routing_key: String,
    pub dedup_key: String,
    pub batch: AlertBatch,
}

/// Parses and checks an event; on error, every problem found, PagerDuty style.
pub fn parse_event(body: &[u8]) -> Result<Parsed, Vec<String>> {
    let ev: EventV2 = parse(body).map_err(|e| vec![error_line(&e)])?;
    let mut errors = Vec::new();
    let routing_key = ev.routing_key.unwrap_or_default();
    if routing_key.trim().is_empty() {
        errors.push("'routing_key' is missing or blank".to_string());
    }
    let action = ev.event_action.unwrap_or_default();
    if !matches!(action.as_str(), "trigger" | "acknowledge" | "resolve") {
        errors.push(format!(
            "'event_action' must be one of trigger, acknowledge, resolve (got {:?})",
            crate::domain::sanitize::sanitize_line(&action)
        ));
    }
    if let Some(k) = &ev.dedup_key
        && (k.is_empty() || k.len() > MAX_DEDUP_KEY)
    {
        errors.push(format!(
            "'dedup_key' must be 1 to {MAX_DEDUP_KEY} characters"
        ));
    }
    if action != "trigger" && ev.dedup_key.is_none() {
        errors.push(format!("'dedup_key' is required for event_action {action}"));
    }
    let payload = ev.payload;
    if action == "trigger" {
        match &payload {
            None => errors.push("'payload' is required for event_action trigger".into()),
            Some(p) => {
                match p.summary.as_deref() {
                    None | Some("") => errors.push("'payload.summary' is missing or blank".into()),
                    Some(s) if s.chars().count() > MAX_SUMMARY => errors.push(format!(
                        "'payload.summary' is {} characters; the limit is {MAX_SUMMARY}",
                        s.chars().count()
                    )),
                    Some(_) => {}
                }
                if p.source.as_deref().unwrap_or("").is_empty() {
                    errors.push("'payload.source' is missing or blank".into());
                }
                match p.severity.as_deref() {
                    Some("critical" | "error" | "warning" | "info") => {}
                    other => errors.push(format!(
                        "'payload.severity' must be one of critical, error, warning, info (got {:?})",
                        crate::domain::sanitize::sanitize_line(other.unwrap_or(""))
                    )),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    let mut starts_at = None;
    if let Some(p) = &payload {
        for (k, v) in [
            ("severity", &p.severity),
            ("source", &p.source),
            ("component", &p.component),
            ("group", &p.group),
            ("class", &p.class),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                labels.insert(k.to_string(), v.clone());
            }
        }
        if let Some(s) = &p.summary {
            annotations.insert("summary".to_string(), s.clone());
        }
        // Flat custom details become annotations (`{details_key}` in title templates).
        if let Some(serde_json::Value::Object(details)) = &p.custom_details {
            for (k, v) in details {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => continue,
                    other => other.to_string(),
                };
                annotations.entry(k.clone()).or_insert(text);
            }
        }
        starts_at = p.timestamp;
    }
    let dedup_key = match ev.dedup_key {
        Some(k) => k,
        None => derived_dedup_key(&labels, &annotations),
    };
    let batch = AlertBatch {
        source: AlertSource::EventsV2,
        group: dedup_key.clone(),
        alerts: match action.as_str() {
            "acknowledge" => Vec::new(),
            firing => vec![Alert {
                fingerprint: dedup_key.clone(),
                firing: firing == "trigger",
                labels,
                annotations,
                starts_at,
                url: ev.links.into_iter().find_map(|l| l.href),
            }],
        },
        acknowledge: action == "acknowledge",
    };
    crate::domain::alert::validate(&batch).map_err(|e| vec![error_line(&e)])?;
    Ok(Parsed {
        routing_key,
        dedup_key,
        batch,
    })
}

/// A trigger without a `dedup_key`: PagerDuty makes one up and returns it; so
/// does warroom, from the alert's content, so a retried trigger is one alert.
fn derived_dedup_key(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let mut h = Sha256::new();
    for (k, v) in labels
        .iter()
        .chain(annotations.iter().filter(|(k, _)| *k == "summary"))
    {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn error_line(e: &AlertError) -> String {
    if e.field.is_empty() {
        e.message.clone()
    } else {
        format!("'{}': {}", e.field, e.message)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_becomes_one_firing_alert_grouped_by_its_dedup_key() {
        let p = parse_event(
            br#"{"routing_key":"wr_x","event_action":"trigger","dedup_key":"db-1",
                "payload":{"summary":"DB down","source":"db-1.prod","severity":"critical",
                "component":"postgres","custom_details":{"region":"eu","n":3,"deep":{"x":1}}},
                "links":[{"href":"https://grafana/d/1","text":"dash"}]}"#,
        )
        .unwrap();
        assert_eq!(p.routing_key, "wr_x");
        assert_eq!(p.batch.group, "db-1");
        let a = &p.batch.alerts[0];
        assert!(a.firing);
        assert_eq!(a.labels["severity"], "critical");
        assert_eq!(a.labels["component"], "postgres");
        assert_eq!(a.annotations["region"], "eu");
        assert_eq!(a.annotations["n"], "3");
        assert!(!a.annotations.contains_key("deep"));
        assert_eq!(a.url.as_deref(), Some("https://grafana/d/1"));
    }

    #[test]
    fn every_problem_is_listed_like_pagerduty_does() {
        let errs =
            parse_event(br#"{"event_action":"trigger","payload":{"severity":"bad"}}"#).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("routing_key"));
        assert!(errs.iter().any(|e| e.contains("payload.summary")));
        assert!(errs.iter().any(|e| e.contains("payload.source")));
        assert!(errs.iter().any(|e| e.contains("payload.severity")));
        let errs = parse_event(br#"{"routing_key":"k","event_action":"resolve"}"#).unwrap_err();
        assert_eq!(errs, ["'dedup_key' is required for event_action resolve"]);
        let errs =
            parse_event(br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":5}}"#)
                .unwrap_err();
        assert!(errs[0].starts_with("'payload.summary'"), "{errs:?}");
    }

    #[test]
    fn a_trigger_without_dedup_key_gets_a_stable_one() {
        let body = br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}"#;
        let a = parse_event(body).unwrap();
        let b = parse_event(body).unwrap();
        assert_eq!(a.dedup_key, b.dedup_key);
        assert_eq!(a.dedup_key.len(), 32);
    }
}
