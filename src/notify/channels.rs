//! The HTTP channels: what each one sends and how its answer is read.
//!
//! - Slack incoming webhook: Block Kit with a plain-text `text` fallback
//!   (what notifications and old clients show).
//! - PagerDuty Events API v2: `trigger` / `acknowledge` / `resolve` under a
//!   `dedup_key` stable per incident and target, so PagerDuty folds a resend
//!   into the alert it already has.
//! - Webhook: the event as JSON, signed per Standard Webhooks
//!   (`webhook-id` = the delivery id, so a receiver deduplicates a resend).
//!
//! Answers: 2xx is delivered; 429, 408, 5xx, timeouts and connection errors
//! are worth another try (honouring `Retry-After`); any other 4xx means the
//! target refuses this request for good (a deleted Slack channel, a bad
//! routing key), and trying again would only repeat it.

use super::secrets;
use crate::domain::notify::ChannelConfig;
use crate::domain::routing::{Intent, PdAction};
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

/// How one try ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    Ok(String),
    /// Try again; `after` is what the target asked for (`Retry-After`).
    Retry {
        detail: String,
        after: Option<Duration>,
    },
    /// The target refuses this request for good.
    Refused(String),
}

/// Longest `Retry-After` honoured (a target asking for a day is treated as asking for this).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Sends one intent over an HTTP channel.
pub async fn send_http(
    http: &reqwest::Client,
    cfg: &ChannelConfig,
    intent: &Intent,
    policy: &crate::domain::notify::NotifyPolicy,
    now: DateTime<Utc>,
) -> Sent {
    let request = match build(http, cfg, intent, policy, now) {
        Ok(r) => r,
        Err(e) => {
            return Sent::Retry {
                detail: e,
                after: None,
            };
        }
    };
    match request.send().await {
        Ok(resp) => read_answer(resp).await,
        Err(e) => Sent::Retry {
            detail: describe_error(&e),
            after: None,
        },
    }
}

fn build(
    http: &reqwest::Client,
    cfg: &ChannelConfig,
    intent: &Intent,
    policy: &crate::domain::notify::NotifyPolicy,
    now: DateTime<Utc>,
) -> Result<reqwest::RequestBuilder, String> {
    match cfg {
        ChannelConfig::Slack { webhook_url } => {
            let url = secrets::read(webhook_url)?;
            Ok(http.post(url).json(&slack_body(intent)))
        }
        ChannelConfig::Pagerduty { routing_key, url } => {
            let key = if intent.target.is_empty() {
                let r = routing_key
                    .as_ref()
                    .ok_or("the pagerduty channel has no routing_key")?;
                secrets::read(r)?
            } else {
                let contact = policy
                    .contact(&intent.target)
                    .ok_or_else(|| format!("{} is no longer in the directory", intent.target))?;
                let r = contact
                    .pagerduty
                    .as_ref()
                    .ok_or_else(|| format!("{} has no pagerduty key", intent.target))?;
                secrets::read(r)?
            };
            Ok(http.post(url).json(&pagerduty_body(intent, &key)))
        }
        ChannelConfig::Webhook { url, secret } => {
            let secret = secrets::read(secret)?;
            let body = webhook_body(intent);
            let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
            let id = intent.id.to_string();
            let ts = now.timestamp().to_string();
            let sig = sign_webhook(&secret, &id, &ts, &body)?;
            Ok(http
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", ts)
                .header("webhook-signature", sig)
                .body(body))
        }
        ChannelConfig::Email { .. } => Err("email is not an HTTP channel".into()),
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped (or they become links and mentions).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Block Kit: a header line, the text, a context line; `text` is the fallback.
pub fn slack_body(intent: &Intent) -> Value {
    let mention = intent
        .mention
        .as_deref()
        .map(|m| {
            // `<@U123>` is already a mention; a bare `@alice` is written as is.
            if m.starts_with("<@") {
                format!("{m} ")
            } else {
                format!("{} ", slack_escape(m))
            }
        })
        .unwrap_or_default();
    let fallback = format!("{mention}{}", intent.summary);
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!(
            "{mention}*{} {}* {}\n{}",
            slack_escape(&intent.incident_key),
            slack_escape(&intent.severity),
            slack_escape(&intent.title),
            slack_escape(&truncate(&intent.event.body.describe(), 2900)),
        )},
    })];
    if intent.text != intent.summary {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": slack_escape(&truncate(&intent.text, 2900))},
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": format!(
            "warroom · {} · {}", slack_escape(&intent.incident_key), intent.what
        )}],
    }));
    json!({"text": truncate(&fallback, 3000), "blocks": blocks})
}

/// An Events API v2 body. Acknowledge and resolve carry only the key and the action.
pub fn pagerduty_body(intent: &Intent, routing_key: &str) -> Value {
    let action = intent.pd_action.unwrap_or(PdAction::Trigger);
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action.as_str(),
        "dedup_key": intent.dedup_key,
    });
    if action == PdAction::Trigger {
        body["payload"] = json!({
            "summary": truncate(&intent.summary, 1024),
            "source": "warroom",
            "severity": intent.pd_severity,
            "group": intent.incident_key,
            "class": intent.what,
            "custom_details": {
                "incident": intent.incident_key,
                "incident_id": intent.incident,
                "title": intent.title,
                "severity": intent.severity,
                "event": intent.event.body.describe(),
                "target": intent.target,
            },
        });
        body["client"] = json!("warroom");
    }
    body
}

/// The Standard Webhooks body: `type`, `timestamp`, `data` (the event).
pub fn webhook_body(intent: &Intent) -> Value {
    json!({
        "type": format!("incident.{}", intent.what),
        "timestamp": intent.event.occurred_at,
        "data": {
            "incident": intent.incident_key,
            "title": intent.title,
            "severity": intent.severity,
            "summary": intent.summary,
            "event": intent.event,
        },
    })
}

/// `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")), the key being the
/// base64 after `whsec_` (Standard Webhooks' secret format).
pub fn sign_webhook(secret: &str, id: &str, ts: &str, body: &[u8]) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.trim().trim_start_matches("whsec_"))
        .map_err(|e| format!("the webhook secret is not whsec_ + base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

async fn read_answer(resp: reqwest::Response) -> Sent {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
    // A slow or endless body must not hold the worker: the client's timeout covers it.
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) if status.is_success() => {
            return Sent::Ok(format!(
                "HTTP {} (body unread: {})",
                status.as_u16(),
                describe_error(&e)
            ));
        }
        Err(e) => describe_error(&e),
    };
    let excerpt = truncate(crate::domain::sanitize::sanitize_line(&text).trim(), 200);
    let detail = if excerpt.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {excerpt}", status.as_u16())
    };
    if status.is_success() {
        Sent::Ok(detail)
    } else if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
        Sent::Retry {
            detail,
            after: retry_after,
        }
    } else {
        Sent::Refused(detail)
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(v: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = v.trim();
    let d = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(d.min(MAX_RETRY_AFTER))
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s = format!("{s}: {inner}");
            src = inner.source();
        }
        truncate(&s, 200)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("40", now), Some(Duration::from_secs(40)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("99999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// The example of the Standard Webhooks specification.
    #[test]
    fn webhook_signature_matches_the_specification_example() {
        let sig = sign_webhook(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn slack_text_is_escaped_so_it_cannot_mention_or_link() {
        assert_eq!(
            slack_escape("<!channel> & <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }
}
