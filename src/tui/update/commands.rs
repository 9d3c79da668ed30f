//! Turning intent into commands: the local `decide` check, the role check
//! before a dialog opens, one-key actions, `:` lines, and the one place a
//! submission's outcome becomes a message.

use super::keys::quit;
use super::navigation::{follow, open_history, open_review, open_room, set_filter, to_board};
use super::{set_error, set_info};
use crate::domain::command::{Access, Action, Command};
use crate::domain::decide::{DomainError, ErrorKind, decide, next_escalation_step};
use crate::domain::event::{ActionState, Channel};
use crate::tui::command_line::Parsed;
use crate::tui::form::Form;
use crate::tui::keymap::{Act, Context};
use crate::tui::model::{Model, Overlay, Pane, Pending, phase_items};
use crate::tui::msg::{Effect, LinkState};
use crate::tui::prefill;
use uuid::Uuid;

/// Why a command was not sent.
pub(super) struct Refusal {
    pub(super) text: String,
    pub(super) stability: bool,
}

/// Builds, checks and sends a command. The checks are the server's own
/// (`decide` against the local replica), so the author learns at once what
/// the server would answer; only "unknown incident" is left to the server,
/// whose log may be ahead of ours.
pub(super) fn try_submit(
    m: &mut Model,
    incident: Option<Uuid>,
    action: Action,
) -> Result<Vec<Effect>, Refusal> {
    if let Some(text) = role_refusal(m, &action) {
        return Err(Refusal {
            text,
            stability: false,
        });
    }
    let cmd = Command {
        id: m.peek_command_id(),
        incident: incident.map(|i| i.to_string()),
        action,
        // The author's moment, kept when an offline command is replayed later.
        occurred_at: Some(m.server_now()),
    };
    match decide(
        &m.replica.world,
        &m.policy,
        &cmd,
        &m.me.name,
        m.server_now(),
    ) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Refusal {
                stability: matches!(e, DomainError::StabilityWindow { .. }),
                text: e.to_string(),
            });
        }
    }
    let id = m.next_command_id();
    debug_assert_eq!(id, cmd.id);
    if matches!(cmd.action, Action::Declare { .. }) {
        m.open_on_arrival = Some(cmd.id);
    }
    m.pending.push(Pending {
        cmd: cmd.clone(),
        at: m.now,
    });
    follow(m);
    Ok(vec![Effect::Submit(cmd)])
}

/// Sends a command and says so on the message line: "sent" (or "queued"
/// when offline), or why it was refused.
pub(super) fn send(m: &mut Model, incident: Option<Uuid>, action: Action) -> Vec<Effect> {
    let sent = sent_text(m, incident, &action);
    send_saying(m, incident, action, Some(sent)).unwrap_or_default()
}

/// The one place a submission's outcome becomes a message: `sent` (if any)
/// on success, the refusal as an error. `None` when refused.
pub(super) fn send_saying(
    m: &mut Model,
    incident: Option<Uuid>,
    action: Action,
    sent: Option<String>,
) -> Option<Vec<Effect>> {
    match try_submit(m, incident, action) {
        Ok(fx) => {
            if let Some(text) = sent {
                set_info(m, text);
            }
            Some(fx)
        }
        Err(r) => {
            set_error(m, r.text);
            None
        }
    }
}

/// "posting a status update needs the commander role; you (bob) are a
/// responder", or `None` when the role allows it. The rule is the domain's
/// ([`Action::required_access`]); the words are the user's.
pub(super) fn role_refusal(m: &Model, action: &Action) -> Option<String> {
    let need = action.required_access();
    if m.me.role >= need {
        return None;
    }
    let article = |a: Access| if a == Access::Admin { "an" } else { "a" };
    Some(format!(
        "{} needs the {} role; you ({}) are {} {}",
        action.doing(),
        need.as_str(),
        m.me.name,
        article(m.me.role),
        m.me.role.as_str()
    ))
}

/// A hand-off is only offered until the incoming person takes it: say so,
/// rather than "role assignment sent" (which reads as done).
fn offer_text(m: &Model, incident: Option<Uuid>, action: &Action) -> Option<String> {
    let Action::AssignRole { role, person, .. } = action else {
        return None;
    };
    let inc = m.incident(&incident?)?;
    let role = m.policy.role(role)?;
    let holder = inc.roles.get(&role.id)?;
    let person = person.trim_start_matches('@');
    let same = crate::domain::handoff::same_person;
    if same(holder, person) || same(person, &m.me.name) {
        return None;
    }
    let queued = if m.link == LinkState::Live {
        ""
    } else {
        " (queued: offline)"
    };
    Some(format!(
        "{} offered to {person}{queued}; {holder} keeps it until {person} takes it",
        role.name
    ))
}

/// What the message line says once a command is handed to the outbox:
/// "sent" only while the link is live; offline it is queued, and says so.
pub(super) fn sent_text(m: &Model, incident: Option<Uuid>, action: &Action) -> String {
    if let Some(offer) = offer_text(m, incident, action) {
        return offer;
    }
    if m.link == LinkState::Live {
        format!("{} sent", action.noun())
    } else {
        format!(
            "{} queued: offline, it goes out when the server is back",
            action.noun()
        )
    }
}

pub(super) fn open_declare(m: &mut Model) {
    if !refused_by_role(m, Act::Declare) {
        m.overlay = Some(Overlay::Form(Box::new(Form::declare(&m.policy))));
    }
}

/// Refuses a dialog the role may not submit, before it opens (the command
/// each key ends in is the keymap's [`Act::command`]).
pub(super) fn refused_by_role(m: &mut Model, act: Act) -> bool {
    match act
        .command(Context::WarRoom)
        .and_then(|a| role_refusal(m, &a))
    {
        Some(text) => {
            set_error(m, text);
            true
        }
        None => false,
    }
}

/// `t` in the deliveries list: asks the server to try the selected one again.
pub(super) fn retry_delivery(m: &mut Model, incident: Uuid, selected: usize) -> Vec<Effect> {
    let Some(d) = m.incident(&incident).and_then(|i| {
        crate::tui::view::delivery_rows(i)
            .get(selected)
            .map(|d| (*d).clone())
    }) else {
        return vec![];
    };
    if !d.failing() {
        set_error(m, format!("{} was delivered; nothing to retry", d.label));
        return vec![];
    }
    let sent = format!("retry of {} sent", d.label);
    send_saying(
        m,
        Some(incident),
        Action::RetryDelivery { delivery: d.id },
        Some(sent),
    )
    .unwrap_or_default()
}

/// One-key actions on the focused incident: errors go to the message line.
/// The triage queue's two keys act on its head, the oldest alert group
/// waiting (runbook 002 §4.2: verify, then declare or dismiss).
pub(super) fn triage(m: &mut Model, act: Act) -> Vec<Effect> {
    let Some(item) = m.replica.world.alerts.queue().next() else {
        set_info(m, "the triage queue is empty");
        return vec![];
    };
    let (id, key) = (item.id, item.key());
    let action = if act == Act::TriageDeclare {
        Action::DeclareTriaged { severity: None }
    } else {
        Action::DismissTriaged {
            reason: "dismissed from the triage queue".into(),
        }
    };
    let declare = act == Act::TriageDeclare;
    let sent = format!("{key} {}", if declare { "declared" } else { "dismissed" });
    let fx = send_saying(m, Some(id), action, Some(sent));
    if fx.is_some() && declare {
        m.open_on_arrival = Some(id);
    }
    fx.unwrap_or_default()
}

/// `T` / `X` in the war room: take or decline the role offered to me. With
/// several roles offered at once, the first in the policy's order.
pub(super) fn answer_offer(m: &mut Model, accept: bool) -> Vec<Effect> {
    let Some(inc) = m.focused_incident() else {
        return vec![];
    };
    let mine = |to: &str| crate::domain::handoff::same_person(to, &m.me.name);
    let offer = m.policy.roles.iter().find_map(|r| {
        inc.offers
            .get(&r.id)
            .filter(|o| mine(&o.to))
            .map(|o| (r, o))
    });
    let Some((role, offer)) = offer else {
        let others: Vec<String> = inc
            .offers
            .iter()
            .map(|(role, o)| format!("{role} to {}", o.to))
            .collect();
        let text = if others.is_empty() {
            format!("no role of {} is being handed to you", inc.key())
        } else {
            format!(
                "no role of {} is being handed to you (offered: {})",
                inc.key(),
                others.join(", ")
            )
        };
        set_error(m, text);
        return vec![];
    };
    let (id, role_id, from) = (inc.id, role.id.clone(), offer.from.clone());
    let (action, sent) = if accept {
        (
            Action::AcceptRole {
                role: role_id.clone(),
            },
            format!("you take {} from {from}", role.name),
        )
    } else {
        (
            Action::DeclineRole {
                role: role_id.clone(),
                reason: String::new(),
            },
            format!("you declined {}; {from} keeps it", role.name),
        )
    };
    send_saying(m, Some(id), action, Some(sent)).unwrap_or_default()
}

pub(super) fn submit_now(m: &mut Model, action: Action) -> Vec<Effect> {
    let Some(id) = m.focused_incident().map(|i| i.id) else {
        return vec![];
    };
    send(m, Some(id), action)
}

pub(super) fn toggle_item(m: &mut Model) -> Vec<Effect> {
    let Some(room) = m.room() else { return vec![] };
    let Some(inc) = m.incident(&room.incident) else {
        return vec![];
    };
    let action = match room.focus {
        Pane::Checklist => {
            let items = phase_items(&m.policy, inc, m.server_now());
            let Some(it) = items.get(room.check_sel) else {
                return vec![];
            };
            Action::SetChecklistItem {
                checklist: it.checklist.to_string(),
                item: it.item.to_string(),
                done: !it.done,
                waive: None,
            }
        }
        Pane::Actions => {
            let Some(a) = inc.actions.get(room.action_sel) else {
                return vec![];
            };
            Action::UpdateActionItem {
                action: a.id,
                state: if a.state == ActionState::Done {
                    ActionState::Open
                } else {
                    ActionState::Done
                },
                owner: None,
                due: None,
                priority: None,
            }
        }
        Pane::Timeline => return vec![],
    };
    submit_now(m, action)
}

pub(super) fn open_form(m: &mut Model, act: Act) {
    if m.focused_incident().is_none() || refused_by_role(m, act) {
        return;
    }
    let Some(inc) = m.focused_incident() else {
        return;
    };
    let now = m.server_now();
    let form = match act {
        Act::Severity => Form::severity(inc, &m.policy),
        Act::Roles => Form::role(inc, &m.policy),
        Act::PostUpdate => {
            let state = inc.status;
            let text = prefill::for_channel(inc, &m.policy, Channel::StatusPage, state, now);
            Form::update(inc, &text)
        }
        // A primary who did not answer: their backup (001 "escalate to the
        // next defined backup"); otherwise the path's next step up.
        Act::Escalate => {
            let backup = crate::domain::backup::escalation_target(inc, &m.policy, now);
            Form::escalate(
                inc,
                backup
                    .as_deref()
                    .or_else(|| next_escalation_step(inc, &m.policy)),
            )
        }
        Act::Page => Form::page(inc),
        Act::Contain => Form::contain(inc),
        Act::Resolve => Form::resolve(inc),
        Act::Reopen => Form::reopen(inc),
        Act::Close => Form::close(inc),
        Act::AddActionItem => Form::action_item(inc),
        Act::Impact => Form::impact(inc),
        Act::ReviewField => Form::review_field(inc, &m.policy),
        _ => return,
    };
    m.overlay = Some(Overlay::Form(Box::new(form)));
}

pub(super) fn run_parsed(m: &mut Model, p: Parsed) -> Vec<Effect> {
    match p {
        Parsed::Quit => quit(m),
        Parsed::Help => {
            m.overlay = Some(Overlay::Help { scroll: 0 });
            vec![]
        }
        Parsed::Theme(name) => vec![Effect::LoadTheme(name)],
        Parsed::Board => {
            to_board(m);
            vec![]
        }
        Parsed::History => {
            open_history(m);
            vec![]
        }
        Parsed::Review => {
            if let Some(id) = m.focused_incident().map(|i| i.id) {
                open_review(m, id);
            }
            vec![]
        }
        Parsed::Open(id) => {
            open_room(m, id);
            vec![]
        }
        Parsed::Filter(f) => {
            if m.room().is_some() {
                set_filter(m, f);
            }
            vec![]
        }
        Parsed::Command { incident, action } => send(m, incident, action),
    }
}
