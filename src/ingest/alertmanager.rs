//! The Alertmanager webhook payload, version 4
//! (<https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>).
//!
//! The group is Alertmanager's `groupKey`: one notification per group, every
//! alert of the group in it, resolved ones with `status: resolved`.

use super::parse;
use crate::domain::alert::{Alert, AlertBatch, AlertError, AlertSource};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The webhook body; unknown fields (`receiver`, `groupLabels`, `externalURL`…) are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub version: String,
    pub group_key: String,
    /// `firing` or `resolved`: the group as a whole.
    pub status: String,
    #[serde(default, deserialize_with = "whole_number")]
    pub truncated_alerts: u64,
    pub alerts: Vec<WebhookAlert>,
}

/// The largest count accepted (JSON's largest exact integer; the OpenAPI
/// document states the same bound).
const MAX_COUNT: u64 = (1 << 53) - 1;

/// A count as JSON has it: `3` or `3.0` (JSON Schema's `integer` allows both),
/// never negative, fractional or past [`MAX_COUNT`].
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= MAX_COUNT as f64)
            .map(|f| f as u64)
    });
    match whole {
        Some(u) if u <= MAX_COUNT => Ok(u),
        _ => Err(serde::de::Error::custom(format!(
            "expected a whole number of alerts from 0 to {MAX_COUNT}, got {n}"
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAlert {
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "optional_time")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "optional_time")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    pub fingerprint: String,
}

/// An alert's time: RFC 3339, or unknown when absent, `null` or empty.
/// Alertmanager writes its zero time for "unknown" (filtered out below); a
/// sender that writes `""` means the same, and the document allows it (a
/// string whose `format` it is), so it is not refused.
///
/// Parsed from the JSON text where it lies (a visitor, not a `String`): a
/// storm's notifications carry two times per alert, every alert of the group
/// again in each notification.
fn optional_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Time;
    impl<'de> serde::de::Visitor<'de> for Time {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 time, an empty string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Time)
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|e| {
                let shown: String = s.chars().take(40).collect();
                E::custom(format!("{shown:?} is not an RFC 3339 time: {e}"))
            })
        }
    }
    d.deserialize_option(Time)
}

/// Parses and checks a webhook body.
pub fn parse_webhook(body: &[u8]) -> Result<AlertBatch, AlertError> {
    let w: Webhook = parse(body)?;
    if w.version != "4" {
        return Err(AlertError::new(
            "version",
            format!(
                "version {:?} is not supported; warroom reads version \"4\" (Alertmanager 0.16 and later)",
                w.version
            ),
        ));
    }
    if !matches!(w.status.as_str(), "firing" | "resolved") {
        return Err(AlertError::new(
            "status",
            format!(
                "status must be \"firing\" or \"resolved\", not {:?}",
                w.status
            ),
        ));
    }
    let mut alerts = Vec::with_capacity(w.alerts.len());
    for (i, a) in w.alerts.into_iter().enumerate() {
        let firing = match a.status.as_str() {
            "firing" => true,
            "resolved" => false,
            other => {
                return Err(AlertError::new(
                    format!("alerts[{i}].status"),
                    format!("status must be \"firing\" or \"resolved\", not {other:?}"),
                ));
            }
        };
        alerts.push(Alert {
            fingerprint: a.fingerprint,
            firing,
            labels: a.labels,
            annotations: a.annotations,
            // Alertmanager's zero time (0001-01-01) means "unknown".
            starts_at: a.starts_at.filter(|t| t.timestamp() > 0),
            url: a.generator_url.filter(|u| !u.is_empty()),
        });
    }
    if w.truncated_alerts > 0 {
        tracing::warn!(
            group = %w.group_key,
            truncated = w.truncated_alerts,
            "Alertmanager truncated the group's alerts (max_alerts); the rest arrive in later notifications"
        );
    }
    let batch = AlertBatch {
        source: AlertSource::Alertmanager,
        group: w.group_key,
        alerts,
        acknowledge: false,
    };
    crate::domain::alert::validate(&batch)?;
    Ok(batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "receiver": "warroom", "status": "firing", "version": "4",
      "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
      "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": {}, "commonAnnotations": {},
      "externalURL": "http://am:9093",
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "api"},
        "annotations": {"summary": "5xx above 5%"},
        "startsAt": "2026-11-23T10:00:00.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom:9090/graph", "fingerprint": "c0ffee"
      }]
    }"#;

    #[test]
    fn parses_the_documented_payload() {
        let b = parse_webhook(SAMPLE.as_bytes()).unwrap();
        assert_eq!(b.group, "{}:{alertname=\"HighErrorRate\"}");
        assert_eq!(b.alerts.len(), 1);
        let a = &b.alerts[0];
        assert!(a.firing);
        assert_eq!(a.labels["service"], "api");
        assert_eq!(a.url.as_deref(), Some("http://prom:9090/graph"));
        assert!(a.starts_at.is_some());
    }

    #[test]
    fn alert_times_may_be_unknown_and_must_be_rfc3339_otherwise() {
        let with = |starts: &str| {
            SAMPLE.replace(
                "\"startsAt\": \"2026-11-23T10:00:00.123456789Z\"",
                &format!("\"startsAt\": {starts}"),
            )
        };
        for unknown in ["null", "\"\"", "\" \""] {
            let b = parse_webhook(with(unknown).as_bytes()).unwrap();
            assert_eq!(b.alerts[0].starts_at, None, "{unknown}");
        }
        // An escaped string is read like any other.
        let b = parse_webhook(with("\"2026-11-23T10:00:00\\u005a\"").as_bytes()).unwrap();
        assert!(b.alerts[0].starts_at.is_some());
        let e = parse_webhook(with("\"yesterday\"").as_bytes()).unwrap_err();
        assert_eq!(e.field, "alerts[0].startsAt");
        assert!(
            e.message.contains("\"yesterday\" is not an RFC 3339 time"),
            "{e}"
        );
        let e = parse_webhook(with("5").as_bytes()).unwrap_err();
        assert_eq!(e.field, "alerts[0].startsAt");
        assert!(e.message.contains("expected an RFC 3339 time"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_webhook(
            SAMPLE
                .replace("\"version\": \"4\"", "\"version\": \"3\"")
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.field, "version");
        let e = parse_webhook(
            SAMPLE
                .replace("\"fingerprint\": \"c0ffee\"", "\"fingerprint\": 7")
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.field, "alerts[0].fingerprint");
        let e = parse_webhook(b"{\"version\": ").unwrap_err();
        assert!(e.message.starts_with("malformed JSON"), "{e}");
        let e = parse_webhook(
            SAMPLE
                .replace(
                    "\"status\": \"firing\",\n        \"labels\"",
                    "\"status\": \"burning\",\n        \"labels\"",
                )
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.field, "alerts[0].status");
    }
}
