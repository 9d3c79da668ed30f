//! Keys in the note composer and in dialogs: fields, choices, the severity
//! flowchart, template refills, and submitting (with the questions a
//! submission may need first).

use super::commands::{send_saying, sent_text, try_submit};
use super::keys::global_key;
use super::navigation::clamp_all;
use super::set_info;
use crate::domain::command::Action;
use crate::domain::event::{Channel, NoteKind, Status};
use crate::domain::flowchart;
use crate::domain::flowchart::Outcome;
use crate::tui::form::{Form, FormKind, Input};
use crate::tui::keymap::{Act, Context};
use crate::tui::model::{Confirm, Model, OnYes, Overlay, new_editor};
use crate::tui::msg::Effect;
use crate::tui::prefill;
use crossterm::event::{KeyCode, KeyEvent};

pub(super) fn composer_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if let Some(fx) = global_key(m, &k) {
        return fx;
    }
    let act = m.keymap.lookup(&[Context::Composer], &k);
    let Some(c) = m.composer.as_mut() else {
        return vec![];
    };
    match act {
        Some(Act::Send) => {
            let text = c.text();
            if text.is_empty() {
                return vec![];
            }
            let (incident, kind) = (c.incident, c.kind);
            let Some(fx) = send_saying(m, Some(incident), Action::Note { kind, text }, None) else {
                return vec![];
            };
            if let Some(c) = m.composer.as_mut() {
                c.editor = new_editor("");
                // Each note is its own kind; the next starts as a plain note.
                c.kind = NoteKind::Note;
            }
            clamp_all(m);
            fx
        }
        Some(Act::Newline) => {
            c.editor.insert_newline();
            clamp_all(m);
            vec![]
        }
        Some(Act::CycleKind) => {
            let i = NoteKind::ALL.iter().position(|k| *k == c.kind).unwrap_or(0);
            c.kind = NoteKind::ALL[(i + 1) % NoteKind::ALL.len()];
            vec![]
        }
        Some(Act::Cancel) => {
            c.open = false;
            if !c.has_draft() {
                m.composer = None;
            }
            clamp_all(m);
            vec![]
        }
        _ => {
            c.editor.input(k);
            clamp_all(m);
            vec![]
        }
    }
}

pub(super) fn form_key(m: &mut Model, mut f: Box<Form>, k: KeyEvent) -> Vec<Effect> {
    if f.flow.is_some() {
        flow_key(m, &mut f, k);
        m.overlay = Some(Overlay::Form(f));
        return vec![];
    }
    if matches!(
        m.keymap.lookup(&[Context::Global], &k),
        Some(Act::Quit | Act::Suspend)
    ) {
        m.overlay = Some(Overlay::Form(f));
        return global_key(m, &k).unwrap_or_default();
    }
    let act = m.keymap.lookup(&[Context::Form], &k);
    let on_choice = matches!(f.focused().map(|x| &x.input), Some(Input::Choice { .. }));
    let on_multiline = matches!(
        f.focused().map(|x| &x.input),
        Some(Input::Text {
            multiline: true,
            ..
        })
    );
    let arrows = matches!(k.code, KeyCode::Up | KeyCode::Down);
    match act {
        Some(Act::Cancel) if f.has_text() => {
            let title = f.title();
            m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
                title: "Drop what you typed?".into(),
                lines: vec![
                    format!("\"{title}\" holds text you typed."),
                    "Close it and drop the text? (y/n)".into(),
                ],
                on_yes: OnYes::Discard,
                back: Some(f),
            })));
            return vec![];
        }
        Some(Act::Cancel) => return vec![],
        Some(Act::Send) => return submit_form(m, f),
        Some(Act::NextField) | Some(Act::PrevField) if !(on_multiline && arrows) => {
            let n = f.fields.len().max(1);
            f.focus = if act == Some(Act::NextField) {
                (f.focus + 1) % n
            } else {
                (f.focus + n - 1) % n
            };
        }
        Some(Act::ChoicePrev) | Some(Act::ChoiceNext) if on_choice => {
            let fwd = act == Some(Act::ChoiceNext);
            if let Some(Input::Choice { options, selected }) = f.focused_mut().map(|x| &mut x.input)
            {
                let n = options.len().max(1);
                *selected = if fwd {
                    (*selected + 1) % n
                } else {
                    (*selected + n - 1) % n
                };
            }
            refill_update(m, &mut f);
            refill_role(m, &mut f);
            if let Some(inc) = f.incident.and_then(|id| m.incident(&id)) {
                f.refill_review_field(inc);
            }
        }
        Some(Act::Newline) => {
            if let Some(Input::Text {
                editor,
                multiline: true,
            }) = f.focused_mut().map(|x| &mut x.input)
            {
                editor.insert_newline();
            }
        }
        Some(Act::Flowchart) if f.kind == FormKind::Declare => {
            if m.policy.flowchart.is_some() {
                f.flow = Some(Vec::new());
                f.error = None;
            } else {
                f.error = Some(format!(
                    "the policy {} has no severity flowchart",
                    m.policy.name
                ));
            }
        }
        Some(Act::Copy) => {
            let text = match f.kind {
                FormKind::Escalate => f
                    .incident
                    .and_then(|id| m.incident(&id))
                    .map(|inc| {
                        prefill::escalation(
                            inc,
                            &m.policy,
                            &f.value("reason"),
                            &f.value("requested"),
                            m.server_now(),
                        )
                    })
                    .unwrap_or_default(),
                _ => f.value("text"),
            };
            m.overlay = Some(Overlay::Form(f));
            if text.is_empty() {
                return vec![];
            }
            set_info(m, "copied to the clipboard");
            return vec![Effect::CopyToClipboard(text)];
        }
        _ => {
            if let Some(Input::Text { editor, .. }) = f.focused_mut().map(|x| &mut x.input) {
                editor.input(k);
                f.error = None;
            }
        }
    }
    m.overlay = Some(Overlay::Form(f));
    vec![]
}

/// Changing the channel or state of an update re-fills its text from the
/// template, unless the author has edited it.
pub(super) fn refill_update(m: &Model, f: &mut Form) {
    if f.kind != FormKind::Update || f.value("text") != f.prefilled.trim() {
        return;
    }
    let Some(inc) = f.incident.and_then(|id| m.incident(&id)) else {
        return;
    };
    let channel = Channel::parse(&f.value("channel")).unwrap_or(Channel::StatusPage);
    let state = Status::parse(&f.value("state")).unwrap_or(inc.status);
    let text = prefill::for_channel(inc, &m.policy, channel, state, m.server_now());
    f.set_text("text", &text);
    f.prefilled = text;
}

/// Choosing another role in the roles dialog offers that role's backup (003's
/// Backup column) as the person, unless someone else was typed.
pub(super) fn refill_role(m: &Model, f: &mut Form) {
    if f.kind != FormKind::Role || f.value("person") != f.prefilled.trim() {
        return;
    }
    let backup = crate::domain::backup::handoff_target(&m.policy, &f.value("role"))
        .unwrap_or_default()
        .to_string();
    f.set_text("person", &backup);
    f.prefilled = backup;
}

pub(super) fn flow_key(m: &mut Model, f: &mut Form, k: KeyEvent) {
    let Some(flow) = &m.policy.flowchart else {
        f.flow = None;
        return;
    };
    let Some(answers) = f.flow.as_mut() else {
        return;
    };
    match m.keymap.lookup(&[Context::Flowchart], &k) {
        Some(Act::Cancel) => f.flow = None,
        Some(Act::StepBack) => {
            answers.pop();
        }
        Some(Act::Answer) => {
            let KeyCode::Char(c) = k.code else { return };
            let n = c.to_digit(10).unwrap_or(1) as usize - 1;
            answers.push(n);
            match flowchart::classify(flow, answers) {
                Ok(Outcome::Ask(_)) => f.error = None,
                Ok(Outcome::Severity(sev)) => {
                    f.flow = None;
                    f.select("severity", &sev);
                    f.error = None;
                    set_info(m, format!("the flowchart says {sev}"));
                }
                Err(e) => {
                    answers.pop();
                    f.error = Some(e.to_string());
                }
            }
        }
        _ => {}
    }
}

pub(super) fn submit_form(m: &mut Model, mut f: Box<Form>) -> Vec<Effect> {
    let action = match f.to_action() {
        Ok(a) => a,
        Err(e) => {
            f.error = Some(e);
            m.overlay = Some(Overlay::Form(f));
            return vec![];
        }
    };
    if let Action::PostUpdate { text, .. } = &action {
        let open: Vec<String> = crate::domain::template::unfilled(text)
            .into_iter()
            .map(str::to_string)
            .collect();
        if !open.is_empty() {
            let hints: Vec<String> = open.iter().map(|n| format!("[{n}?]")).collect();
            let set_here = open
                .iter()
                .any(|n| matches!(n.as_str(), "impact" | "services" | "customers" | "bridge"));
            let mut lines = vec![format!(
                "The message still has unfilled fields: {}.",
                hints.join(", ")
            )];
            if set_here {
                lines.push(
                    "Impact, services, customers and the bridge are set with I (or :impact)."
                        .into(),
                );
            }
            lines.push("Post it as it is? (y/n — n goes back to the message)".into());
            m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
                title: "Post with unfilled fields?".into(),
                lines,
                on_yes: OnYes::Submit {
                    incident: f.incident,
                    action: Box::new(action),
                },
                back: Some(f),
            })));
            return vec![];
        }
    }
    let name = sent_text(m, f.incident, &action);
    match try_submit(m, f.incident, action.clone()) {
        Ok(fx) => {
            set_info(m, name);
            fx
        }
        Err(r) if r.stability => {
            // Offer force, with the server's own explanation.
            let Action::Resolve { summary, .. } = action else {
                return vec![];
            };
            m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
                title: "Resolve before the stability window?".into(),
                lines: vec![
                    r.text,
                    String::new(),
                    "Resolve anyway (recorded as forced)? (y/n)".into(),
                ],
                on_yes: OnYes::Submit {
                    incident: f.incident,
                    action: Box::new(Action::Resolve {
                        summary,
                        force: true,
                        reason: String::new(),
                    }),
                },
                back: Some(f),
            })));
            vec![]
        }
        Err(r) => {
            f.error = Some(r.text);
            m.overlay = Some(Overlay::Form(f));
            vec![]
        }
    }
}
