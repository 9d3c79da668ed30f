//! Notifications as policy data: the channels a team posts to (Slack,
//! PagerDuty, signed webhooks, email), the directory of people and escalation
//! targets, the routes that say which event goes where, and the retry budget.
//!
//! Pure data and validation only; which committed event becomes which
//! delivery is [`super::routing`], and sending is `crate::notify`.
//!
//! Secrets (webhook URLs, routing keys, signing keys, SMTP passwords) are
//! never written in the policy file, which is meant to be committed and
//! shared: a [`SecretRef`] names an environment variable or a file, and only
//! the delivery worker reads it.

use super::duration::Span;
use super::event::Channel as UpdateChannel;
use super::policy::PolicyError;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The `[notify]` section of a policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyPolicy {
    /// Named channels, e.g. `[notify.channels.slack-incidents]`.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelConfig>,
    /// Which events go to which channel (`[[notify.routes]]`).
    #[serde(default)]
    pub routes: Vec<Route>,
    /// People and escalation targets (`[[notify.directory]]`).
    #[serde(default)]
    pub directory: Vec<Contact>,
    #[serde(default)]
    pub delivery: DeliverySettings,
}

/// A reference to a secret: an environment variable or a file, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretRef {
    Env(String),
    File(String),
}

impl SecretRef {
    /// `env WARROOM_SLACK_URL` / `file /run/secrets/x`, for messages.
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env(v) => format!("environment variable {v}"),
            SecretRef::File(p) => format!("file {p}"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    /// Accepts `{ env = "NAME" }` or `{ file = "/path" }`; a bare string is
    /// refused with a message that says why (it would put the secret in the file).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretRef, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            env: Option<String>,
            file: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Literal(#[allow(dead_code)] String),
            Table(Table),
        }
        use serde::de::Error;
        match Raw::deserialize(d)? {
            Raw::Literal(_) => Err(D::Error::custom(
                "secrets are never written in the policy file: name an environment variable \
                 ({ env = \"NAME\" }) or a file ({ file = \"/path\" })",
            )),
            Raw::Table(Table {
                env: Some(e),
                file: None,
            }) if !e.trim().is_empty() => Ok(SecretRef::Env(e)),
            Raw::Table(Table {
                env: None,
                file: Some(f),
            }) if !f.trim().is_empty() => Ok(SecretRef::File(f)),
            Raw::Table(_) => Err(D::Error::custom(
                "a secret is exactly one of { env = \"NAME\" } or { file = \"/path\" }, not empty",
            )),
        }
    }
}

/// TLS for an SMTP relay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP (a local relay, or tests on loopback).
    None,
    /// STARTTLS on port 587 (the default).
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS, port 465).
    Tls,
}

/// One channel, by type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// A Slack incoming webhook (Block Kit with a plain-text fallback).
    Slack {
        /// The incoming-webhook URL (it is the credential).
        webhook_url: SecretRef,
    },
    /// PagerDuty Events API v2.
    Pagerduty {
        /// The service's integration key, for routes without a person.
        #[serde(default)]
        routing_key: Option<SecretRef>,
        /// The Events API endpoint; PagerDuty's own unless overridden (EU, a proxy).
        #[serde(default = "default_pagerduty_url")]
        url: String,
    },
    /// A JSON POST of each event, signed per Standard Webhooks.
    Webhook {
        url: String,
        /// `whsec_` + base64 key, as Standard Webhooks hands them out.
        secret: SecretRef,
    },
    /// Email over SMTP (customer updates, executive summaries).
    Email {
        /// `host:port` of the relay.
        smtp: String,
        #[serde(default)]
        tls: SmtpTls,
        from: String,
        /// Default recipients; pages add the person's own address.
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        username: Option<SecretRef>,
        #[serde(default)]
        password: Option<SecretRef>,
    },
}

fn default_pagerduty_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".into()
}

/// The kind of a channel, for messages and matching.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Slack,
    Pagerduty,
    Webhook,
    Email,
}

impl ChannelKind {
    /// `Slack`, `PagerDuty`… as people write them.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Slack => "Slack",
            ChannelKind::Pagerduty => "PagerDuty",
            ChannelKind::Webhook => "Webhook",
            ChannelKind::Email => "Email",
        }
    }
}

impl ChannelConfig {
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelConfig::Slack { .. } => ChannelKind::Slack,
            ChannelConfig::Pagerduty { .. } => ChannelKind::Pagerduty,
            ChannelConfig::Webhook { .. } => ChannelKind::Webhook,
            ChannelConfig::Email { .. } => ChannelKind::Email,
        }
    }

    /// Every secret the channel names, with its field name (for `policy check`).
    pub fn secrets(&self) -> Vec<(&'static str, &SecretRef)> {
        match self {
            ChannelConfig::Slack { webhook_url } => vec![("webhook_url", webhook_url)],
            ChannelConfig::Pagerduty { routing_key, .. } => {
                routing_key.iter().map(|s| ("routing_key", s)).collect()
            }
            ChannelConfig::Webhook { secret, .. } => vec![("secret", secret)],
            ChannelConfig::Email {
                username, password, ..
            } => username
                .iter()
                .map(|s| ("username", s))
                .chain(password.iter().map(|s| ("password", s)))
                .collect(),
        }
    }
}

/// Which events a route sends to its channel. Every filter left empty matches all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A key of `[notify.channels]`. Empty when the route names people (`to`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Directory contacts the matching events reach over every contact method
    /// they have, as a page does: who a runbook says must be told (002 §2.1 P1
    /// "Executive notification", P2 "Manager notification"; 001 "escalated to
    /// leadership"). A route names either a channel or people, not both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// Event kinds (`declared`, `acknowledged`, `update_posted`…).
    #[serde(default)]
    pub events: Vec<String>,
    /// Severity ids (the incident's current severity).
    #[serde(default)]
    pub severities: Vec<String>,
    /// Incident kinds (`availability`, `security`).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// For `update_posted`: which update channels (`status_page`, `internal`, `customer`).
    #[serde(default)]
    pub updates: Vec<UpdateChannel>,
}

/// A person or an escalation target ("Engineering Manager") and how to reach them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// As written in `page @alice` or an escalation rule's `to`.
    pub name: String,
    /// Other names that reach this contact (a login, a role title).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Their own PagerDuty integration key (a page becomes a trigger on it).
    #[serde(default)]
    pub pagerduty: Option<SecretRef>,
    /// Slack mention, e.g. `<@U024BE7LH>` or `@alice`.
    #[serde(default)]
    pub slack: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// How soon they are expected to answer a page (runbook 002 §5.3).
    #[serde(default)]
    pub respond_within: Option<Span>,
}

impl Contact {
    /// Whether `who` (`@alice`, `Alice`, an alias) names this contact.
    pub fn answers_to(&self, who: &str) -> bool {
        let who = who.trim().trim_start_matches('@');
        std::iter::once(&self.name)
            .chain(&self.aliases)
            .any(|n| n.trim_start_matches('@').eq_ignore_ascii_case(who))
    }
}

/// The retry budget of the delivery worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Tries before a delivery is given up (and shown as failed).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one doubles it (with jitter).
    #[serde(default = "default_backoff")]
    pub backoff: Span,
    /// No wait between tries grows beyond this.
    #[serde(default = "default_max_backoff")]
    pub max_backoff: Span,
    /// One request may take this long before it counts as failed.
    #[serde(default = "default_timeout")]
    pub timeout: Span,
}

fn default_attempts() -> u32 {
    8
}
fn default_backoff() -> Span {
    Span::seconds(5)
}
fn default_max_backoff() -> Span {
    Span::minutes(10)
}
fn default_timeout() -> Span {
    Span::seconds(10)
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            max_attempts: default_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
            timeout: default_timeout(),
        }
    }
}

/// Event kinds a route may name: everything people and the scheduler write
/// (delivery outcomes are never routed, or a failing channel would feed itself).
pub const ROUTABLE: &[&str] = &[
    "declared",
    "acknowledged",
    "severity_changed",
    "kind_changed",
    "detection_recorded",
    "status_changed",
    "contained",
    "resolved",
    "reopened",
    "closed",
    "role_assigned",
    "role_handed_off",
    "role_released",
    "role_offered",
    "role_declined",
    "severity_suggested",
    "note",
    "update_posted",
    "escalated",
    "paged",
    "impact_updated",
    "checklist_item_set",
    "action_item_added",
    "action_item_updated",
    "update_overdue",
    "review_completed",
];

impl NotifyPolicy {
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The directory entry `who` names, if any.
    pub fn contact(&self, who: &str) -> Option<&Contact> {
        self.directory.iter().find(|c| c.answers_to(who))
    }

    /// The first channel of a kind (pages go to the person over it).
    pub fn first_of(&self, kind: ChannelKind) -> Option<(&str, &ChannelConfig)> {
        self.channels
            .iter()
            .find(|(_, c)| c.kind() == kind)
            .map(|(n, c)| (n.as_str(), c))
    }

    /// Cross-references: routes name channels, known events, severities and
    /// kinds; directory names are unique; the retry budget is sane.
    pub fn validate(&self, severities: &[&str], kinds: &[String]) -> Result<(), PolicyError> {
        let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
        for (name, ch) in &self.channels {
            if name.trim().is_empty() || name.contains(char::is_whitespace) {
                return invalid(
                    format!("notify.channels.{name:?}"),
                    "a channel name is a word without spaces".into(),
                );
            }
            match ch {
                ChannelConfig::Pagerduty { url, .. } | ChannelConfig::Webhook { url, .. }
                    if !(url.starts_with("http://") || url.starts_with("https://")) =>
                {
                    return invalid(
                        format!("notify.channels.{name}.url"),
                        format!("{url:?} is not an http(s) URL"),
                    );
                }
                ChannelConfig::Email { smtp, from, to, .. } => {
                    if !smtp.contains(':') {
                        return invalid(
                            format!("notify.channels.{name}.smtp"),
                            format!("{smtp:?} must be host:port"),
                        );
                    }
                    for (field, addr) in
                        std::iter::once(("from", from)).chain(to.iter().map(|a| ("to", a)))
                    {
                        if !looks_like_address(addr) {
                            return invalid(
                                format!("notify.channels.{name}.{field}"),
                                format!("{addr:?} is not an email address"),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !r.to.is_empty() {
                if !r.channel.is_empty() {
                    return invalid(
                        format!("notify.routes[{i}].to"),
                        "a route names either a channel or people (`to`), not both".into(),
                    );
                }
                for who in &r.to {
                    if self.contact(who).is_none() {
                        return invalid(
                            format!("notify.routes[{i}].to"),
                            format!("{who:?} is not in [[notify.directory]]"),
                        );
                    }
                }
            }
            let ch = if r.to.is_empty() {
                let Some(ch) = self.channels.get(&r.channel) else {
                    let known: Vec<&str> = self.channels.keys().map(String::as_str).collect();
                    return invalid(
                        format!("notify.routes[{i}].channel"),
                        format!("unknown channel {:?} (channels are {known:?})", r.channel),
                    );
                };
                Some(ch)
            } else {
                None
            };
            for e in &r.events {
                if !ROUTABLE.contains(&e.as_str()) {
                    return invalid(
                        format!("notify.routes[{i}].events"),
                        format!("unknown event kind {e:?}"),
                    );
                }
                if let Some(ch) = ch
                    && ch.kind() == ChannelKind::Pagerduty
                    && !super::routing::pagerduty_maps(e)
                {
                    return invalid(
                        format!("notify.routes[{i}].events"),
                        format!(
                            "PagerDuty only knows trigger/acknowledge/resolve; {e:?} maps to none \
                             (use declared, reopened, acknowledged, resolved, closed, escalated, paged)"
                        ),
                    );
                }
            }
            for s in &r.severities {
                if !severities.iter().any(|k| k.eq_ignore_ascii_case(s)) {
                    return invalid(
                        format!("notify.routes[{i}].severities"),
                        format!("unknown severity {s:?}"),
                    );
                }
            }
            for k in &r.kinds {
                if !kinds.contains(k) {
                    return invalid(
                        format!("notify.routes[{i}].kinds"),
                        format!("unknown kind {k:?} (kinds are {kinds:?})"),
                    );
                }
            }
            if let Some(ChannelConfig::Email { to, .. }) = ch
                && to.is_empty()
            {
                return invalid(
                    format!("notify.routes[{i}].channel"),
                    format!("email channel {:?} has no `to` recipients", r.channel),
                );
            }
        }
        for (i, c) in self.directory.iter().enumerate() {
            if c.name.trim().is_empty() {
                return invalid(
                    format!("notify.directory[{i}].name"),
                    "must not be empty".into(),
                );
            }
            if let Some(j) = self.directory[..i].iter().position(|o| {
                std::iter::once(&c.name)
                    .chain(&c.aliases)
                    .any(|n| o.answers_to(n))
            }) {
                return invalid(
                    format!("notify.directory[{i}].name"),
                    format!(
                        "{:?} (or an alias) already names directory[{j}] ({:?})",
                        c.name, self.directory[j].name
                    ),
                );
            }
            if let Some(addr) = &c.email
                && !looks_like_address(addr)
            {
                return invalid(
                    format!("notify.directory[{i}].email"),
                    format!("{addr:?} is not an email address"),
                );
            }
            if c.pagerduty.is_some() && self.first_of(ChannelKind::Pagerduty).is_none() {
                return invalid(
                    format!("notify.directory[{i}].pagerduty"),
                    "a pagerduty key needs a channel of type \"pagerduty\" to send over".into(),
                );
            }
        }
        let d = &self.delivery;
        if d.max_attempts == 0 || d.max_attempts > 100 {
            return invalid(
                "notify.delivery.max_attempts".into(),
                format!("{} is outside 1..=100", d.max_attempts),
            );
        }
        if d.timeout.amount == 0 {
            return invalid("notify.delivery.timeout".into(), "must not be zero".into());
        }
        Ok(())
    }
}

/// `local@domain`: enough to catch a typo; the relay is the judge of the rest.
fn looks_like_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local = local.rsplit_once('<').map_or(local, |(_, l)| l);
    !local.trim().is_empty()
        && !domain.trim_end_matches('>').is_empty()
        && !s.contains(['\r', '\n'])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NotifyPolicy, String> {
        let n: NotifyPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
        n.validate(&["P1", "P2"], &["availability".into(), "security".into()])
            .map_err(|e| e.to_string())?;
        Ok(n)
    }

    #[test]
    fn a_literal_secret_is_refused_with_the_reason() {
        let err = parse(
            r#"
            [channels.chat]
            type = "slack"
            webhook_url = "https://hooks.slack.com/services/T/B/X"
            "#,
        )
        .unwrap_err();
        assert!(err.contains("never written in the policy file"), "{err}");
        // The table holding it is named (with its line).
        assert!(
            err.contains("[channels.chat]") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn routes_must_name_known_channels_events_and_severities() {
        let base = r#"
            [channels.chat]
            type = "slack"
            webhook_url = { env = "SLACK_URL" }
            [channels.pd]
            type = "pagerduty"
            routing_key = { file = "/run/secrets/pd" }
        "#;
        let err = parse(&format!("{base}\n[[routes]]\nchannel = \"nope\"")).unwrap_err();
        assert!(
            err.contains("notify.routes[0].channel") && err.contains("\"nope\""),
            "{err}"
        );
        let err = parse(&format!(
            "{base}\n[[routes]]\nchannel = \"chat\"\nevents = [\"noted\"]"
        ))
        .unwrap_err();
        assert!(err.contains("unknown event kind \"noted\""), "{err}");
        let err = parse(&format!(
            "{base}\n[[routes]]\nchannel = \"pd\"\nevents = [\"note\"]"
        ))
        .unwrap_err();
        assert!(err.contains("PagerDuty only knows"), "{err}");
        let err = parse(&format!(
            "{base}\n[[routes]]\nchannel = \"chat\"\nseverities = [\"P9\"]"
        ))
        .unwrap_err();
        assert!(err.contains("unknown severity \"P9\""), "{err}");
        parse(&format!(
            "{base}\n[[routes]]\nchannel = \"pd\"\nevents = [\"declared\", \"resolved\"]\nseverities = [\"p1\"]"
        ))
        .unwrap();
    }

    #[test]
    fn directory_names_are_unique_and_reachable() {
        let err = parse(
            r#"
            [[directory]]
            name = "alice"
            [[directory]]
            name = "Engineering Manager"
            aliases = ["@Alice"]
            "#,
        )
        .unwrap_err();
        assert!(err.contains("notify.directory[1].name"), "{err}");
        let err = parse(
            r#"
            [[directory]]
            name = "alice"
            pagerduty = { env = "PD_ALICE" }
            "#,
        )
        .unwrap_err();
        assert!(err.contains("needs a channel of type"), "{err}");
        let n = parse(
            r#"
            [[directory]]
            name = "alice"
            aliases = ["Engineering Manager"]
            respond_within = "10m"
            "#,
        )
        .unwrap();
        assert_eq!(n.contact("@ALICE").map(|c| c.name.as_str()), Some("alice"));
        assert_eq!(
            n.contact("engineering manager").map(|c| c.name.as_str()),
            Some("alice")
        );
        assert!(n.contact("bob").is_none());
    }
}
