//! The sync task's reports: events into the replica, commands queued,
//! accepted or refused (a refusal never loses the author's words), and the
//! calls for this seat's attention (escalations, pages, roles, clocks overdue).

use super::navigation::{clamp_all, follow, open_room, refresh_review};
use super::set_error;
use crate::domain::command::{Action, Command};
use crate::domain::event::EventBody;
use crate::domain::handoff::same_person;
use crate::tui::form::Form;
use crate::tui::keymap::{Act, Context};
use crate::tui::model::{Composer, Model, Overlay, Pending, Place, new_editor};
use crate::tui::msg::{Effect, LinkState, SyncMsg};

pub(super) fn on_sync(m: &mut Model, s: SyncMsg) {
    match s {
        SyncMsg::Events(events) => {
            let mut touched_review = false;
            m.replica.reserve(events.len());
            for rec in events {
                let ev_id = rec.event.id;
                let incident = rec.event.incident;
                let declared = matches!(rec.event.body, EventBody::Declared { .. });
                if m.replica.apply(rec) {
                    m.pending.retain(|p| p.cmd.id != ev_id);
                    if declared && m.open_on_arrival == Some(incident) {
                        m.open_on_arrival = None;
                        open_room(m, incident);
                    }
                    if m.review().is_some_and(|r| r.incident == incident) {
                        touched_review = true;
                    }
                }
            }
            m.refresh_board();
            m.refresh_history();
            m.refresh_timeline();
            follow(m);
            if touched_review {
                refresh_review(m);
            }
        }
        SyncMsg::Link(l) => {
            if l == LinkState::Refused && m.link != LinkState::Refused {
                set_error(
                    m,
                    "the server no longer accepts this window's token (revoked?): nothing more is received or sent; \
                     ask an admin for a new token and restart with it (what you type stays here)",
                );
            }
            m.link = l;
        }
        SyncMsg::Offset(d) => {
            m.offset = d;
            m.refresh_board();
        }
        SyncMsg::Queued { cmd } => {
            if !m.pending.iter().any(|p| p.cmd.id == cmd.id) {
                m.pending.push(Pending { cmd, at: m.now });
            }
            follow(m);
        }
        SyncMsg::Accepted { id } => m.pending.retain(|p| p.cmd.id != id),
        SyncMsg::Rejected { id, error } => {
            let refused = m
                .pending
                .iter()
                .find(|p| p.cmd.id == id)
                .map(|p| p.cmd.clone());
            m.pending.retain(|p| p.cmd.id != id);
            let text = match refused {
                Some(cmd) => {
                    let kept = keep_refused_text(m, &cmd);
                    format!("{} refused by the server: {error}{kept}", cmd.action.noun())
                }
                None => format!("a command was refused by the server: {error}"),
            };
            set_error(m, text);
            clamp_all(m);
        }
        SyncMsg::Pending(n) => m.outbox = n,
    }
}

/// A refused command never takes the author's words with it: a note goes
/// back into the composer (ahead of any newer draft), a status update back
/// into its dialog; other text is quoted in the message. Returns what to add
/// to the message line.
pub(super) fn keep_refused_text(m: &mut Model, cmd: &Command) -> String {
    let incident = cmd
        .incident
        .as_deref()
        .and_then(|r| m.replica.world.resolve(r))
        .map(|i| i.id);
    match (&cmd.action, incident) {
        (Action::Note { kind, text }, Some(inc)) if !text.trim().is_empty() => {
            let here = m.screen.place() == Place::WarRoom(inc);
            match m.composer.as_mut() {
                Some(c) if c.incident == inc => {
                    let newer = c.text();
                    let joined = if newer.is_empty() {
                        text.clone()
                    } else {
                        format!("{text}\n{newer}")
                    };
                    c.editor = new_editor(&joined);
                    c.kind = *kind;
                    c.open |= here;
                }
                Some(c) if c.has_draft() => {
                    return format!(" (your text: \"{text}\")");
                }
                _ => {
                    let mut c = Composer::new(inc, *kind);
                    c.editor = new_editor(text);
                    c.open = here;
                    m.composer = Some(c);
                }
            }
            " (your text is back in the composer)".into()
        }
        (Action::PostUpdate { text, .. }, Some(inc)) if m.overlay.is_none() => {
            if let Some(i) = m.incident(&inc) {
                let mut f = Form::update(i, text);
                // Hand-edited text: Esc asks before dropping it.
                f.prefilled = String::new();
                m.overlay = Some(Overlay::Form(Box::new(f)));
            }
            " (your update is back in its dialog)".into()
        }
        (action, _) => match refused_text(action) {
            Some(t) => format!(" (your text: \"{t}\")"),
            None => String::new(),
        },
    }
}

/// The free text a command carries, if any.
pub(super) fn refused_text(action: &Action) -> Option<&str> {
    let t = match action {
        Action::Note { text, .. }
        | Action::PostUpdate { text, .. }
        | Action::AddActionItem { text, .. } => text,
        Action::Escalate { reason, .. }
        | Action::Page { reason, .. }
        | Action::Reopen { reason }
        | Action::SetSeverity { reason, .. } => reason,
        Action::Resolve { summary, .. } => summary,
        Action::Contain { note } | Action::AssignRole { note, .. } => note,
        _ => return None,
    };
    Some(t.as_str()).filter(|t| !t.trim().is_empty())
}

/// Why an event needs this seat's attention: an escalation, a page or a role
/// for me. `None` for everything else (and for what I did myself).
pub(super) fn calls_for_me(m: &Model, rec: &crate::domain::Recorded) -> Option<String> {
    let ev = &rec.event;
    // The catch-up at start (link not yet live) is history, not news.
    if m.link != LinkState::Live
        || rec.seq <= m.replica.last_seq()
        || *ev.actor == *m.me.name && !matches!(ev.body, EventBody::Escalated { .. })
    {
        return None;
    }
    let key = m
        .incident(&ev.incident)
        .map_or_else(String::new, |i| i.key());
    match &ev.body {
        EventBody::Escalated { to, .. } => Some(format!("{key} escalated to {to}")),
        EventBody::Paged { who, reason } if who.trim_start_matches('@') == m.me.name => {
            Some(format!("{key}: {} paged you: {reason}", ev.actor))
        }
        EventBody::RoleAssigned { role, person } if *person == m.me.name => {
            Some(format!("{key}: {} made you {role}", ev.actor))
        }
        EventBody::RoleHandedOff(c) if c.to == m.me.name => {
            Some(format!("{key}: {} handed you {}", c.from, c.role))
        }
        EventBody::RoleOffered(c) if same_person(&c.to, &m.me.name) => {
            let (from, role) = (&c.from, &c.role);
            let keys = |act| m.keymap.keys_for(Context::WarRoom, act);
            Some(format!(
                "{key}: {from} is handing you {role}; in its war room {} takes it, {} declines",
                keys(Act::AcceptRole),
                keys(Act::DeclineRole)
            ))
        }
        EventBody::RoleDeclined(d) if same_person(&d.from, &m.me.name) => {
            Some(format!("{key}: {} declined {}; you keep it", d.to, d.role))
        }
        EventBody::SeveritySuggested { severity, reason } => {
            let ic = m.incident(&ev.incident).and_then(|i| i.roles.get("ic"));
            ic.filter(|ic| same_person(ic, &m.me.name))
                .map(|_| format!("{key}: alerts suggest {severity} ({reason})"))
        }
        _ => None,
    }
}

/// Clocks that turned OVERDUE since the last tick (the first tick only
/// records what is already overdue: starting up is not news).
pub(super) fn newly_overdue(m: &mut Model) -> Vec<Effect> {
    // The baseline waits for the catch-up (done when the link is live).
    if m.link != LinkState::Live && m.overdue_seen.is_none() {
        return vec![];
    }
    let now = m.server_now();
    let mut current = std::collections::BTreeSet::new();
    let mut first_new = None;
    for inc in m.replica.world.open() {
        for c in crate::domain::clocks::clocks(inc, &m.policy, now) {
            if c.is_running() && c.state == crate::domain::clocks::ClockState::Breached {
                let k = (inc.id, c.label.clone());
                if first_new.is_none()
                    && m.overdue_seen
                        .as_ref()
                        .is_some_and(|seen| !seen.contains(&k))
                {
                    first_new = Some(format!("{} {} is OVERDUE", inc.key(), c.label));
                }
                current.insert(k);
            }
        }
    }
    m.overdue_seen = Some(current);
    match first_new {
        Some(why) => attention(m, why),
        None => vec![],
    }
}

/// Flashes the message line (unless turned off) and rings the bell (if turned on).
pub(super) fn attention(m: &mut Model, why: String) -> Vec<Effect> {
    if m.flash {
        set_error(m, format!("⚑ {why}"));
    }
    if m.bell { vec![Effect::Bell] } else { vec![] }
}
