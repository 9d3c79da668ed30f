//! The email channel: one message per delivery over SMTP (lettre), for
//! customer updates and executive channels.
//!
//! The `Message-ID` is derived from the delivery id, so a message resent
//! after a crash carries the same id and mail systems that deduplicate on it
//! (most archives and many clients) show it once.

use super::channels::Sent;
use super::secrets;
use crate::domain::notify::{ChannelConfig, SmtpTls};
use crate::domain::routing::Intent;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Sends `intent` through the email channel `cfg`.
pub async fn send(cfg: &ChannelConfig, intent: &Intent, timeout: Duration) -> Sent {
    let ChannelConfig::Email {
        smtp,
        tls,
        from,
        username,
        password,
        ..
    } = cfg
    else {
        return Sent::Refused("not an email channel".into());
    };
    let message = match message(from, intent) {
        Ok(m) => m,
        Err(e) => return Sent::Refused(e),
    };
    let Some((host, port)) = smtp
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
    else {
        return Sent::Refused(format!("smtp {smtp:?} is not host:port"));
    };
    let builder = match tls {
        SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
    };
    let mut builder = match builder {
        Ok(b) => b.port(port).timeout(Some(timeout)),
        Err(e) => return Sent::Refused(format!("smtp {host}: {e}")),
    };
    if let (Some(u), Some(p)) = (username, password) {
        match (secrets::read(u), secrets::read(p)) {
            (Ok(u), Ok(p)) => builder = builder.credentials(Credentials::new(u, p)),
            (Err(e), _) | (_, Err(e)) => {
                return Sent::Retry {
                    detail: e,
                    after: None,
                };
            }
        }
    }
    let transport = builder.build();
    match tokio::time::timeout(timeout, transport.send(message)).await {
        Ok(Ok(resp)) => Sent::Ok(format!("SMTP {}", resp.code())),
        Ok(Err(e)) if e.is_permanent() => Sent::Refused(format!("SMTP refused: {e}")),
        Ok(Err(e)) => Sent::Retry {
            detail: format!("SMTP: {e}"),
            after: None,
        },
        Err(_) => Sent::Retry {
            detail: "SMTP timed out".into(),
            after: None,
        },
    }
}

fn message(from: &str, intent: &Intent) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(from.parse().map_err(|e| format!("from {from:?}: {e}"))?)
        .subject(format!(
            "[{} {}] {}: {}",
            intent.incident_key,
            intent.severity,
            intent.title,
            subject_of(intent)
        ))
        .message_id(Some(format!("<{}@warroom>", intent.id)))
        .header(ContentType::TEXT_PLAIN);
    if intent.to.is_empty() {
        return Err("no recipients".into());
    }
    for to in &intent.to {
        b = b.to(to.parse().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    let body = format!(
        "{}\n\n--\n{} · {} · sent by warroom\n",
        intent.text,
        intent.incident_key,
        intent.event.body.describe()
    );
    b.body(body).map_err(|e| e.to_string())
}

fn subject_of(intent: &Intent) -> String {
    use crate::domain::event::EventBody;
    match &intent.event.body {
        EventBody::UpdatePosted { channel, .. } => format!("{} update", channel.label()),
        EventBody::Paged { .. } => "you are paged".into(),
        EventBody::Escalated { .. } => "escalation".into(),
        other => other.kind_name().replace('_', " "),
    }
}
