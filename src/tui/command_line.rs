//! The `:` command line, in the runbooks' own syntax:
//! `:incident declare "API down" severity=P1`, `:status update "msg" state=identified`,
//! `:pd page @alice "reason"`. A pure parser from text to domain actions (or
//! to local commands such as `:theme`), with quoting, Tab completion and
//! errors that say what to type instead.

mod complete;
mod report;
mod review;

pub use complete::{CompleteCtx, complete};

use super::model::Filter;
use crate::domain::command::Action;
use crate::domain::event::{Channel, DetectionMethod, Impact, NoteKind, Status};
use crate::domain::policy::Policy;
use crate::domain::state::{Incident, World};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

/// What a line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A domain command on `incident`, already resolved (from `inc=INC-3` or
    /// the focused incident) against the replica; `None` only for `declare`.
    Command {
        incident: Option<Uuid>,
        action: Action,
    },
    Theme(String),
    Quit,
    Help,
    /// Open an incident's war room (`:open INC-3`), resolved to its id.
    Open(Uuid),
    Board,
    Review,
    /// The history of closed incidents.
    History,
    Filter(Filter),
}

/// The verbs, their syntax and what they do (for `:help` and completion).
pub const VERBS: &[(&str, &str, &str)] = &[
    (
        "incident",
        ":incident declare \"title\" severity=P1 [kind=K] [impact=\"…\"] [services=a,b] [customers=…] [bridge=URL] [ic=@who]",
        "declare an incident",
    ),
    (
        "declare",
        ":declare \"title\" severity=P1 …",
        "same as :incident declare",
    ),
    ("ack", ":ack", "acknowledge"),
    ("sev", ":sev P2 \"reason\"", "change severity"),
    (
        "detect",
        ":detect [customer|alert|internal|security|disclosure] [start=09:40] [at=-5m]",
        "record how and when it was detected, and when the impact began",
    ),
    (
        "kind",
        ":kind security \"reason\"",
        "reclassify (rules for the new kind apply from now)",
    ),
    (
        "status",
        ":status update \"msg\" state=identified [channel=internal]  |  :status monitoring",
        "post a status update / change the status",
    ),
    (
        "update",
        ":update \"msg\" [state=S] [channel=C]",
        "same as :status update",
    ),
    (
        "role",
        ":role ic @bob [\"hand-off note\"]",
        "assign or hand off a role",
    ),
    ("release", ":release tech_lead", "release a role"),
    (
        "take",
        ":take [ic]",
        "take the role handed to you (accept the hand-off)",
    ),
    (
        "decline",
        ":decline [ic] [\"reason\"]",
        "decline the role handed to you (the holder keeps it)",
    ),
    (
        "report",
        ":report KIND \"title\" [severity=…] [reporter=…] [details=\"…\"]",
        "a report that is not an alert (customer, disclosure…) into the triage queue",
    ),
    ("note", ":note text…", "write a note"),
    ("decision", ":decision text…", "record a decision"),
    ("observation", ":observation text…", "record an observation"),
    ("pd", ":pd page @alice \"reason\"", "page someone"),
    ("page", ":page @alice \"reason\"", "same as :pd page"),
    (
        "escalate",
        ":escalate \"reason\" [to=@who]",
        "escalate (the policy's next step by default)",
    ),
    ("contain", ":contain [note…]", "mark contained"),
    (
        "resolve",
        ":resolve \"summary\" [force] [reason=\"why the criteria are overridden\"]",
        "resolve",
    ),
    ("reopen", ":reopen \"reason\"", "reopen"),
    ("close", ":close", "close (needs the definition of done)"),
    (
        "action",
        ":action \"text\" [@owner] [YYYY-MM-DD] [priority=P1]",
        "add an action item",
    ),
    (
        "item",
        ":item N [open|in_progress|done|cancelled] [@owner] [YYYY-MM-DD] [priority=P1]",
        "change the N-th action item (also after closing)",
    ),
    (
        "field",
        ":field ID \"value\" (\\n starts a new line or table row; no value clears it)",
        "write a field of the post-incident review (also after closing)",
    ),
    ("check", ":check checklist/item", "tick a checklist item"),
    (
        "uncheck",
        ":uncheck checklist/item",
        "untick a checklist item",
    ),
    (
        "waive",
        ":waive checklist/item why",
        "waive a checklist item, with the reason (a time-boxed one leaves view)",
    ),
    (
        "impact",
        ":impact [\"summary\"] [services=a,b] [customers=…] [bridge=URL]",
        "set the impact: summary, services, customers affected, bridge link",
    ),
    (
        "reviewed",
        ":reviewed \"summary\"",
        "mark the post-incident review completed",
    ),
    ("open", ":open INC-3", "open an incident's war room"),
    ("board", ":board", "back to the board"),
    (
        "history",
        ":history",
        "closed incidents: reviews coming due, reopen",
    ),
    (
        "review",
        ":review",
        "post-incident review of the incident in focus",
    ),
    (
        "filter",
        ":filter all|notes|decisions|status",
        "filter the timeline",
    ),
    (
        "theme",
        ":theme dark|light|high-contrast|colorblind",
        "switch theme",
    ),
    ("help", ":help", "all keys and verbs"),
    ("q", ":q", "quit"),
];

/// What the parser may consult.
pub struct Ctx<'a> {
    pub policy: &'a Policy,
    pub world: &'a World,
    /// The incident in focus, used when the line does not name one.
    pub incident: Option<&'a Incident>,
    /// The server's time: `start=09:40` means the latest 09:40 UTC not after it.
    pub now: DateTime<Utc>,
}

/// A moment as typed: `09:40` (UTC, the latest not after `now`), `-25m` /
/// `-2h` (before now), or RFC 3339.
fn moment(text: &str, field: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "{field}={t}: expected a UTC time like 09:40, a time ago like -25m, or 2026-03-14T09:40:00Z"
        )
    };
    if let Ok(hm) = NaiveTime::parse_from_str(t, "%H:%M") {
        let today = now.date_naive().and_time(hm).and_utc();
        return Ok(if today > now {
            today - chrono::Duration::days(1)
        } else {
            today
        });
    }
    if let Some(ago) = t.strip_prefix('-') {
        let span: crate::domain::duration::Span = ago.parse().map_err(|_| bad())?;
        return Ok(now - span.nominal());
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| bad())
}

/// One word of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    /// `key` of `key=value` (only when the `=` came before any quote).
    key: Option<String>,
    /// The text, quotes removed.
    value: String,
}

/// Splits a line into words; `"…"` and `'…'` group, `\"` escapes inside double quotes.
fn tokenize(line: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        let mut key = None;
        let mut quoted = false;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '"' | '\'' => {
                    quoted = true;
                    let mut closed = false;
                    while let Some((_, q)) = chars.next() {
                        if q == c {
                            closed = true;
                            break;
                        }
                        if q == '\\'
                            && c == '"'
                            && let Some(&(_, n)) = chars.peek()
                            && (n == '"' || n == '\\')
                        {
                            text.push(n);
                            chars.next();
                            continue;
                        }
                        text.push(q);
                    }
                    if !closed {
                        return Err(format!(
                            "unclosed quote starting at column {}",
                            line[..i].chars().count() + 1
                        ));
                    }
                }
                '=' if key.is_none()
                    && !quoted
                    && !text.is_empty()
                    && text.chars().all(|k| k.is_ascii_alphanumeric() || k == '_') =>
                {
                    key = Some(std::mem::take(&mut text).to_ascii_lowercase());
                }
                c => text.push(c),
            }
        }
        out.push(Token { key, value: text });
    }
    Ok(out)
}

/// The text after the verb(s), raw; one fully quoted string is unquoted.
fn rest_after(line: &str, words: usize) -> String {
    let mut rest = line.trim_start();
    for _ in 0..words {
        rest = rest
            .find(char::is_whitespace)
            .map_or("", |i| &rest[i..])
            .trim_start();
    }
    // `inc=INC-3` in front names the incident (see `target`), it is not part of the text.
    while rest.starts_with("inc=") {
        rest = rest
            .find(char::is_whitespace)
            .map_or("", |i| &rest[i..])
            .trim_start();
    }
    let rest = rest.trim();
    if let Ok(tokens) = tokenize(rest)
        && tokens.len() == 1
        && tokens[0].key.is_none()
        && rest.starts_with(['"', '\''])
    {
        return tokens[0].value.clone();
    }
    rest.to_string()
}

fn known_list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn severity<'p>(policy: &'p Policy, given: &str, shown: &str) -> Result<&'p str, String> {
    policy
        .severity(given)
        .map(|s| s.id.as_str())
        .ok_or_else(|| {
            format!(
                "{shown}: unknown severity; the policy defines {}",
                known_list(policy.severities.iter().map(|s| s.id.clone()))
            )
        })
}

fn role<'p>(policy: &'p Policy, given: &str) -> Result<&'p str, String> {
    policy.role(given).map(|r| r.id.as_str()).ok_or_else(|| {
        format!(
            "{given}: unknown role; the policy defines {}",
            known_list(policy.roles.iter().map(|r| r.id.clone()))
        )
    })
}

fn status(given: &str, shown: &str) -> Result<Status, String> {
    Status::parse(given).ok_or_else(|| {
        format!("{shown}: unknown state; use investigating, identified, monitoring or resolved")
    })
}

fn date(given: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(given, "%Y-%m-%d")
        .map_err(|_| format!("{given}: not a date; write it as YYYY-MM-DD, e.g. 2026-12-01"))
}

/// Checks the `key=value` options against those a verb takes.
fn options<'t>(
    tokens: &'t [Token],
    verb: &str,
    allowed: &[&str],
) -> Result<Vec<(&'t str, &'t str)>, String> {
    let mut out = Vec::new();
    for t in tokens {
        if let Some(k) = &t.key {
            if !allowed.contains(&k.as_str()) && k != "inc" {
                let mut all: Vec<&str> = allowed.to_vec();
                all.push("inc");
                return Err(format!(
                    "unknown option {k}= for :{verb} (options: {})",
                    all.join(", ")
                ));
            }
            out.push((k.as_str(), t.value.as_str()));
        }
    }
    Ok(out)
}

fn positional(tokens: &[Token]) -> Vec<&str> {
    tokens
        .iter()
        .filter(|t| t.key.is_none())
        .map(|t| t.value.as_str())
        .collect()
}

fn opt<'a>(opts: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    opts.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Parses one line (with or without the leading `:`). A runbook's quick
/// reference pastes as is: `/incident declare "x" severity=P1`, `/status
/// update …`, `/pd page @u "…"` (runbook 002 §9.3) — the slash is dropped.
pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Parsed, String> {
    let line = line.trim().trim_start_matches(':').trim_start();
    let line = line.strip_prefix('/').unwrap_or(line).trim_start();
    let tokens = tokenize(line)?;
    let Some(first) = tokens.first() else {
        return Err("empty command — try :help".into());
    };
    let verb = first.value.to_ascii_lowercase();
    // Every incident command accepts inc=INC-3 to name its incident.
    let named = tokens
        .iter()
        .rev()
        .find(|t| t.key.as_deref() == Some("inc"))
        .map(|t| t.value.clone());
    let target = || -> Result<Option<Uuid>, String> {
        match &named {
            Some(r) => match ctx.world.resolve(r) {
                Some(inc) => Ok(Some(inc.id)),
                None => Err(format!("inc={r}: no such incident")),
            },
            None => match ctx.incident {
                Some(inc) => Ok(Some(inc.id)),
                None => Err(format!(
                    ":{verb} needs an incident: open one, select one on the board, or add inc=INC-3"
                )),
            },
        }
    };
    let cmd = |action: Action| -> Result<Parsed, String> {
        Ok(Parsed::Command {
            incident: target()?,
            action,
        })
    };
    let args = &tokens[1..];
    let pos = positional(args);
    match verb.as_str() {
        "q" | "quit" | "q!" => Ok(Parsed::Quit),
        "help" | "h" => Ok(Parsed::Help),
        "board" => Ok(Parsed::Board),
        "history" => Ok(Parsed::History),
        "review" => Ok(Parsed::Review),
        "theme" => match pos.first() {
            Some(name) => Ok(Parsed::Theme((*name).to_string())),
            None => Err(format!(
                ":theme needs a name: {}",
                super::theme::Theme::names().join(", ")
            )),
        },
        "filter" => {
            let f = pos.first().copied().unwrap_or("all");
            Filter::parse(f)
                .map(Parsed::Filter)
                .ok_or_else(|| format!("{f}: unknown filter; use all, notes, decisions or status"))
        }
        "open" | "inc" => {
            let r = pos
                .first()
                .ok_or(":open needs an incident, e.g. :open INC-3")?;
            ctx.world
                .resolve(r)
                .map(|i| Parsed::Open(i.id))
                .ok_or_else(|| format!("{r}: no such incident"))
        }
        "report" => report::parse(args, ctx),
        "incident" | "declare" => {
            let rest = if verb == "incident" {
                match pos.first().map(|s| s.to_ascii_lowercase()) {
                    Some(s) if s == "declare" => &args[1..],
                    other => {
                        return Err(format!(
                            "unknown :incident subcommand {} — try :incident declare \"title\" severity=P1",
                            other.unwrap_or_else(|| "(none)".into())
                        ));
                    }
                }
            } else {
                args
            };
            let opts = options(
                rest,
                "incident declare",
                &[
                    "severity",
                    "sev",
                    "kind",
                    "impact",
                    "ic",
                    "services",
                    "customers",
                    "bridge",
                ],
            )?;
            let title = positional(rest).join(" ");
            if title.trim().is_empty() {
                return Err(
                    ":incident declare needs a title: :incident declare \"API down\" severity=P1"
                        .into(),
                );
            }
            let sev = match opt(&opts, "severity").or(opt(&opts, "sev")) {
                Some(s) => severity(ctx.policy, s, &format!("severity={s}"))?.to_string(),
                None => {
                    return Err(format!(
                        ":incident declare needs severity=…; the policy defines {}",
                        known_list(ctx.policy.severities.iter().map(|s| s.id.clone()))
                    ));
                }
            };
            let kind = match opt(&opts, "kind") {
                Some(k) => Some(
                    ctx.policy
                        .kinds
                        .iter()
                        .find(|x| x.eq_ignore_ascii_case(k))
                        .cloned()
                        .ok_or_else(|| {
                            format!(
                                "kind={k}: unknown kind; the policy defines {}",
                                known_list(ctx.policy.kinds.iter().cloned())
                            )
                        })?,
                ),
                None => None,
            };
            Ok(Parsed::Command {
                incident: None,
                action: Action::Declare {
                    title,
                    severity: sev,
                    kind,
                    impact: Some(Impact {
                        summary: opt(&opts, "impact").unwrap_or_default().to_string(),
                        services: Impact::parse_services(
                            opt(&opts, "services").unwrap_or_default(),
                        ),
                        customers: opt(&opts, "customers").unwrap_or_default().to_string(),
                        data_exposure: false,
                        bridge: opt(&opts, "bridge").unwrap_or_default().to_string(),
                    })
                    .filter(|i| *i != Impact::default()),
                    commander: opt(&opts, "ic").map(str::to_string),
                },
            })
        }
        "ack" | "acknowledge" => {
            options(args, "ack", &[])?;
            cmd(Action::Acknowledge)
        }
        "sev" | "severity" => {
            options(args, "sev", &[])?;
            let (Some(s), reason) = (pos.first(), pos[1.min(pos.len())..].join(" ")) else {
                return Err(":sev needs a severity and a reason: :sev P2 \"reason\"".into());
            };
            let s = severity(ctx.policy, s, s)?.to_string();
            if reason.trim().is_empty() {
                return Err(format!(":sev needs a reason: :sev {s} \"why\""));
            }
            cmd(Action::SetSeverity {
                severity: s,
                reason,
            })
        }
        "detect" | "detected" => {
            let opts = options(args, "detect", &["start", "at", "method"])?;
            let method = match opt(&opts, "method").or(pos.first().copied()) {
                Some(m) => Some(DetectionMethod::parse(m).ok_or_else(|| {
                    format!(
                        "unknown detection method {m:?} (methods: {})",
                        DetectionMethod::ALL.map(DetectionMethod::as_str).join(", ")
                    )
                })?),
                None => None,
            };
            let impact_started = opt(&opts, "start")
                .map(|t| moment(t, "start", ctx.now))
                .transpose()?;
            let detected_at = opt(&opts, "at")
                .map(|t| moment(t, "at", ctx.now))
                .transpose()?;
            if method.is_none() && impact_started.is_none() && detected_at.is_none() {
                return Err(
                    ":detect needs a method, start= or at=: :detect customer start=09:40 at=09:52"
                        .into(),
                );
            }
            cmd(Action::RecordDetection {
                impact_started,
                detected_at,
                method,
            })
        }
        "kind" => {
            options(args, "kind", &[])?;
            let (Some(k), reason) = (pos.first(), pos[1.min(pos.len())..].join(" ")) else {
                return Err(format!(
                    ":kind needs a kind and a reason: :kind security \"why\" (kinds: {})",
                    ctx.policy.kinds.join(", ")
                ));
            };
            let Some(kind) = ctx.policy.kinds.iter().find(|x| x.eq_ignore_ascii_case(k)) else {
                return Err(format!(
                    "unknown kind {k:?}; the policy defines {}",
                    ctx.policy.kinds.join(", ")
                ));
            };
            if reason.trim().is_empty() {
                return Err(format!(":kind needs a reason: :kind {kind} \"why\""));
            }
            cmd(Action::SetKind {
                kind: kind.clone(),
                reason,
            })
        }
        "status" | "update" => {
            let rest = if verb == "status" {
                match pos.first().map(|s| s.to_ascii_lowercase()) {
                    Some(s) if s == "update" => &args[1..],
                    Some(s) if Status::parse(&s).is_some() && pos.len() == 1 => {
                        options(args, "status", &[])?;
                        return cmd(Action::SetStatus {
                            status: status(&s, &s)?,
                        });
                    }
                    other => {
                        return Err(format!(
                            "unknown :status subcommand {} — try :status update \"msg\" state=identified, or :status monitoring",
                            other.unwrap_or_else(|| "(none)".into())
                        ));
                    }
                }
            } else {
                args
            };
            let opts = options(rest, "status update", &["state", "channel"])?;
            let text = positional(rest).join(" ");
            if text.trim().is_empty() {
                return Err(
                    ":status update needs a message: :status update \"msg\" state=identified"
                        .into(),
                );
            }
            let state = opt(&opts, "state")
                .map(|s| status(s, &format!("state={s}")))
                .transpose()?;
            let channel = match opt(&opts, "channel") {
                Some(c) => Channel::parse(c).ok_or_else(|| {
                    format!("channel={c}: unknown channel; use status_page, internal or customer")
                })?,
                None => Channel::StatusPage,
            };
            cmd(Action::PostUpdate {
                channel,
                state,
                text,
            })
        }
        "role" => {
            options(args, "role", &[])?;
            let (Some(r), Some(who)) = (pos.first(), pos.get(1)) else {
                return Err(":role needs a role and a person: :role ic @bob".into());
            };
            if r.eq_ignore_ascii_case("release") {
                return cmd(Action::ReleaseRole {
                    role: role(ctx.policy, who)?.to_string(),
                });
            }
            cmd(Action::AssignRole {
                role: role(ctx.policy, r)?.to_string(),
                person: who.trim_start_matches('@').to_string(),
                note: pos[2..].join(" "),
            })
        }
        "take" | "accept" | "decline" => {
            options(args, &verb, &[])?;
            // The role offered (the IC role unless named), then the reason.
            let named = pos.first().and_then(|r| ctx.policy.role(r));
            let role_id = named.map_or_else(|| "ic".to_string(), |r| r.id.clone());
            if verb == "decline" {
                let skip = usize::from(named.is_some());
                cmd(Action::DeclineRole {
                    role: role_id,
                    reason: pos[skip.min(pos.len())..].join(" "),
                })
            } else {
                if let Some(extra) = pos.get(usize::from(named.is_some())) {
                    return Err(format!(
                        ":{verb} takes a role, not {extra:?}: :{verb} ic (the policy's roles: {})",
                        ctx.policy
                            .roles
                            .iter()
                            .map(|r| r.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                cmd(Action::AcceptRole { role: role_id })
            }
        }
        "release" => {
            options(args, "release", &[])?;
            let r = pos
                .first()
                .ok_or(":release needs a role: :release tech_lead")?;
            cmd(Action::ReleaseRole {
                role: role(ctx.policy, r)?.to_string(),
            })
        }
        "note" | "decision" | "observation" | "n" => {
            let kind = NoteKind::parse(&verb).unwrap_or(NoteKind::Note);
            let text = rest_after(line, 1);
            if text.is_empty() {
                return Err(format!(":{verb} needs text: :{verb} what happened"));
            }
            cmd(Action::Note { kind, text })
        }
        "pd" | "page" => {
            let rest = if verb == "pd" {
                match pos.first().map(|s| s.to_ascii_lowercase()) {
                    Some(s) if s == "page" => &args[1..],
                    other => {
                        return Err(format!(
                            "unknown :pd subcommand {} — try :pd page @alice \"reason\"",
                            other.unwrap_or_else(|| "(none)".into())
                        ));
                    }
                }
            } else {
                args
            };
            options(rest, "pd page", &[])?;
            let p = positional(rest);
            let (Some(who), reason) = (p.first(), p[1.min(p.len())..].join(" ")) else {
                return Err(
                    ":pd page needs a person and a reason: :pd page @alice \"reason\"".into(),
                );
            };
            if reason.trim().is_empty() {
                return Err(format!(":pd page needs a reason: :pd page {who} \"why\""));
            }
            cmd(Action::Page {
                who: who.trim_start_matches('@').to_string(),
                reason,
            })
        }
        "escalate" => {
            let opts = options(args, "escalate", &["to"])?;
            let mut to = opt(&opts, "to").map(|t| t.trim_start_matches('@').to_string());
            let mut words = pos.clone();
            if to.is_none() && words.first().is_some_and(|w| w.starts_with('@')) {
                to = Some(words.remove(0).trim_start_matches('@').to_string());
            }
            let reason = words.join(" ");
            if reason.trim().is_empty() {
                return Err(":escalate needs a reason: :escalate \"why\" [to=@who]".into());
            }
            cmd(Action::Escalate { to, reason })
        }
        "contain" | "contained" => cmd(Action::Contain {
            note: rest_after(line, 1),
        }),
        "resolve" => {
            let opts = options(args, "resolve", &["reason"])?;
            let reason = opt(&opts, "reason").unwrap_or_default().to_string();
            let force = !reason.is_empty()
                || pos
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case("force") || *w == "--force");
            let summary = pos
                .iter()
                .filter(|w| !w.eq_ignore_ascii_case("force") && **w != "--force")
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            cmd(Action::Resolve {
                summary,
                force,
                reason,
            })
        }
        "reopen" => {
            options(args, "reopen", &[])?;
            let reason = pos.join(" ");
            if reason.trim().is_empty() {
                return Err(":reopen needs a reason: :reopen \"why\"".into());
            }
            cmd(Action::Reopen { reason })
        }
        "close" => {
            options(args, "close", &[])?;
            cmd(Action::Close)
        }
        "action" => {
            let opts = options(args, "action", &["priority"])?;
            let mut text = Vec::new();
            let mut owner = None;
            let mut due = None;
            for w in &pos {
                if let Some(o) = w.strip_prefix('@') {
                    owner = Some(o.to_string());
                } else if w.len() == 10 && w.as_bytes().get(4) == Some(&b'-') {
                    due = Some(date(w)?);
                } else {
                    text.push(*w);
                }
            }
            let text = text.join(" ");
            if text.trim().is_empty() {
                return Err(":action needs text: :action \"what\" @owner 2026-12-01".into());
            }
            cmd(Action::AddActionItem {
                text,
                owner,
                due,
                priority: opt(&opts, "priority").map(str::to_string),
            })
        }
        "check" | "uncheck" | "waive" => {
            options(args, &verb, &[])?;
            let item = pos
                .first()
                .ok_or_else(|| format!(":{verb} needs checklist/item, e.g. :{verb} triage/ack"))?;
            let (list, id) = item
                .split_once('/')
                .ok_or_else(|| format!("{item}: write it as checklist/item, e.g. triage/ack"))?;
            let waive = if verb == "waive" {
                let why = rest_after(line, 2);
                if why.is_empty() {
                    return Err(format!(
                        ":waive needs a reason: :waive {item} \"not needed because …\""
                    ));
                }
                Some(why)
            } else {
                None
            };
            cmd(Action::SetChecklistItem {
                checklist: list.to_string(),
                item: id.to_string(),
                done: verb != "uncheck",
                waive,
            })
        }
        "impact" => {
            let opts = options(args, "impact", &["services", "customers", "bridge"])?;
            let set: Vec<_> = opts.iter().filter(|(k, _)| *k != "inc").collect();
            // Without options the whole rest is the summary, as typed.
            let summary = if set.is_empty() {
                rest_after(line, 1)
            } else {
                pos.join(" ")
            };
            if summary.is_empty() && set.is_empty() {
                return Err(":impact needs a summary or services=/customers=/bridge=: \
                     :impact \"checkout fails for EU\" services=checkout,payments customers=\"EU tenants\" bridge=https://meet…"
                    .into());
            }
            let mut impact = target()
                .ok()
                .flatten()
                .and_then(|id| ctx.world.get(&id))
                .map(|i| i.impact.clone())
                .unwrap_or_default();
            if !summary.is_empty() {
                impact.summary = summary;
            }
            if let Some(s) = opt(&opts, "services") {
                impact.services = Impact::parse_services(s);
            }
            if let Some(c) = opt(&opts, "customers") {
                impact.customers = c.to_string();
            }
            if let Some(b) = opt(&opts, "bridge") {
                impact.bridge = b.to_string();
            }
            cmd(Action::UpdateImpact { impact })
        }
        "reviewed" => cmd(Action::CompleteReview {
            summary: rest_after(line, 1),
        }),
        "item" => {
            let opts = options(args, "item", &["priority"])?;
            let inc = target()?.and_then(|id| ctx.world.get(&id));
            cmd(review::item(inc, &pos, opt(&opts, "priority"))?)
        }
        "field" | "rf" => {
            options(args, "field", &[])?;
            cmd(review::field(ctx.policy, &pos, line)?)
        }
        other => Err(format!("unknown verb :{other} — try :help")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
