//! Dialogs as data: a [`Form`] is a list of fields (text, choice) plus what
//! kind of command it builds. One editor and one renderer serve every dialog
//! — declare, severity, roles, status update, escalate, page, contain,
//! resolve, reopen, close, action item.

use super::model::new_editor;
use crate::domain::command::Action;
use crate::domain::event::{Channel, Impact, Status};
use crate::domain::policy::Policy;
use crate::domain::state::Incident;
use chrono::NaiveDate;
use ratatui_textarea::TextArea;
use uuid::Uuid;

/// Which command a form builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormKind {
    Declare,
    Severity,
    Role,
    Update,
    Escalate,
    Page,
    Contain,
    Resolve,
    Reopen,
    Close,
    ActionItem,
    Impact,
    /// A human field of the post-incident review (the policy's template).
    ReviewField,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug)]
pub enum Input {
    Text {
        editor: Box<TextArea<'static>>,
        multiline: bool,
    },
    Choice {
        options: Vec<Choice>,
        selected: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Field {
    /// Stable name used to read the value.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
}

impl Field {
    fn text(name: &'static str, label: &'static str, value: &str) -> Field {
        let mut editor = new_editor(value);
        editor.set_wrap_mode(ratatui_textarea::WrapMode::None);
        Field {
            name,
            label,
            input: Input::Text {
                editor: Box::new(editor),
                multiline: false,
            },
        }
    }

    fn multiline(name: &'static str, label: &'static str, value: &str) -> Field {
        Field {
            name,
            label,
            input: Input::Text {
                editor: Box::new(new_editor(value)),
                multiline: true,
            },
        }
    }

    fn choice(
        name: &'static str,
        label: &'static str,
        options: Vec<Choice>,
        selected: usize,
    ) -> Field {
        Field {
            name,
            label,
            input: Input::Choice { options, selected },
        }
    }

    /// The value as text: a text field's lines, a choice's value.
    pub fn value(&self) -> String {
        match &self.input {
            Input::Text { editor, .. } => editor.lines().join("\n"),
            Input::Choice { options, selected } => options
                .get(*selected)
                .map(|c| c.value.clone())
                .unwrap_or_default(),
        }
    }

    /// Rows the field takes in the dialog.
    pub fn height(&self) -> u16 {
        match &self.input {
            Input::Text {
                multiline: true, ..
            } => 8,
            _ => 1,
        }
    }
}

/// One open dialog.
#[derive(Clone, Debug)]
pub struct Form {
    pub kind: FormKind,
    /// The incident it acts on (none for declare).
    pub incident: Option<Uuid>,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why the last submit was refused.
    pub error: Option<String>,
    /// The severity flowchart in progress (declare): answers given so far.
    pub flow: Option<Vec<usize>>,
    /// The template text last put into the update field, so changing the
    /// channel or state re-fills it only while the author has not edited it.
    pub prefilled: String,
    /// Each text field's value when the dialog opened: what differs from it
    /// was typed by hand, and Esc asks before dropping it.
    pub initial: Vec<String>,
}

fn choice(value: impl Into<String>, label: impl Into<String>) -> Choice {
    Choice {
        value: value.into(),
        label: label.into(),
    }
}

fn severity_choices(policy: &Policy) -> Vec<Choice> {
    policy
        .severities
        .iter()
        .map(|s| choice(&s.id, format!("{} {}", s.label, s.name)))
        .collect()
}

fn status_choices(inc: &Incident) -> (Vec<Choice>, usize) {
    let mut states = vec![
        Status::Investigating,
        Status::Identified,
        Status::Monitoring,
    ];
    if inc.resolved.is_some() {
        states.push(Status::Resolved);
    }
    let selected = states.iter().position(|s| *s == inc.status).unwrap_or(0);
    (
        states
            .into_iter()
            .map(|s| choice(s.as_str(), s.as_str()))
            .collect(),
        selected,
    )
}

impl Form {
    fn new(kind: FormKind, incident: Option<Uuid>, fields: Vec<Field>) -> Form {
        let initial = fields.iter().map(Field::value).collect();
        Form {
            kind,
            incident,
            fields,
            focus: 0,
            error: None,
            flow: None,
            prefilled: String::new(),
            initial,
        }
    }

    /// The dialog's title.
    pub fn title(&self) -> &'static str {
        match self.kind {
            FormKind::Declare => "Declare an incident",
            FormKind::Severity => "Change severity",
            FormKind::Role => "Roles",
            FormKind::Update => "Post a status update",
            FormKind::Escalate => "Escalate",
            FormKind::Page => "Page someone",
            FormKind::Contain => "Mark contained",
            FormKind::Resolve => "Resolve",
            FormKind::Reopen => "Reopen",
            FormKind::Close => "Close",
            FormKind::ActionItem => "Add an action item",
            FormKind::ReviewField => "Write the review",
            FormKind::Impact => "Impact",
        }
    }

    pub fn declare(policy: &Policy) -> Form {
        let kinds = policy.kinds.iter().map(|k| choice(k, k)).collect();
        Form::new(
            FormKind::Declare,
            None,
            vec![
                Field::text("title", "Title", ""),
                Field::choice("severity", "Severity", severity_choices(policy), 0),
                Field::choice("kind", "Kind", kinds, 0),
                Field::text("impact", "Impact", ""),
                Field::text("services", "Services (a, b)", ""),
                Field::text("customers", "Customers", ""),
                Field::text("bridge", "Bridge link", ""),
            ],
        )
    }

    /// What the incident affects: the status page's `{impact}`, `{services}`,
    /// `{customers}` and `{bridge}` come from here.
    pub fn impact(inc: &Incident) -> Form {
        let i = &inc.impact;
        Form::new(
            FormKind::Impact,
            Some(inc.id),
            vec![
                Field::text("impact", "Impact", &i.summary),
                Field::text("services", "Services (a, b)", &i.services.join(", ")),
                Field::text("customers", "Customers", &i.customers),
                Field::text("bridge", "Bridge link", &i.bridge),
                Field::choice(
                    "data_exposure",
                    "Data exposed",
                    vec![choice("no", "no"), choice("yes", "yes")],
                    usize::from(i.data_exposure),
                ),
            ],
        )
    }

    /// The impact fields of the declare and impact dialogs; `None` when all are empty.
    fn impact_value(&self, data_exposure: bool) -> Option<Impact> {
        let impact = Impact {
            summary: self.value("impact"),
            services: Impact::parse_services(&self.value("services")),
            customers: self.value("customers"),
            data_exposure,
            bridge: self.value("bridge"),
        };
        (impact != Impact::default()).then_some(impact)
    }

    pub fn severity(inc: &Incident, policy: &Policy) -> Form {
        let current = policy
            .severities
            .iter()
            .position(|s| s.id == inc.severity)
            .unwrap_or(0);
        Form::new(
            FormKind::Severity,
            Some(inc.id),
            vec![
                Field::choice("severity", "Severity", severity_choices(policy), current),
                Field::text("reason", "Reason", ""),
            ],
        )
    }

    pub fn role(inc: &Incident, policy: &Policy) -> Form {
        let roles = policy
            .roles
            .iter()
            .map(|r| {
                let holder = inc.roles.get(&r.id).map_or("—", String::as_str);
                choice(&r.id, format!("{} ({holder})", r.name))
            })
            .collect();
        let modes = vec![
            choice("assign", "assign / hand off"),
            choice("release", "release"),
        ];
        // The first role's backup (003's Backup column) is offered as the person.
        let backup = policy
            .roles
            .first()
            .and_then(|r| r.backup.as_deref())
            .unwrap_or_default();
        let mut f = Form::new(
            FormKind::Role,
            Some(inc.id),
            vec![
                Field::choice("role", "Role", roles, 0),
                Field::choice("mode", "Do", modes, 0),
                Field::text("person", "Person", backup),
                Field::text("note", "Hand-off note", ""),
            ],
        );
        f.prefilled = backup.to_string();
        f
    }

    /// `text` is the template for the preselected channel and state.
    pub fn update(inc: &Incident, text: &str) -> Form {
        let channels = Channel::ALL
            .into_iter()
            .map(|c| choice(c.as_str(), c.label()))
            .collect();
        let (states, st) = status_choices(inc);
        let mut f = Form::new(
            FormKind::Update,
            Some(inc.id),
            vec![
                Field::choice("channel", "Channel", channels, 0),
                Field::choice("state", "State", states, st),
                Field::multiline("text", "Message", text),
            ],
        );
        // The author edits from the top of the template.
        f.set_text("text", text);
        f.prefilled = text.to_string();
        f.focus = 2;
        f
    }

    pub fn escalate(inc: &Incident, next_step: Option<&str>) -> Form {
        Form::new(
            FormKind::Escalate,
            Some(inc.id),
            vec![
                Field::text("to", "To", next_step.unwrap_or_default()),
                Field::text("reason", "Reason", ""),
                Field::text("requested", "Requested action", ""),
            ],
        )
        .focused_on(1)
    }

    pub fn page(inc: &Incident) -> Form {
        Form::new(
            FormKind::Page,
            Some(inc.id),
            vec![
                Field::text("who", "Who", ""),
                Field::text("reason", "Reason", ""),
            ],
        )
    }

    pub fn contain(inc: &Incident) -> Form {
        Form::new(
            FormKind::Contain,
            Some(inc.id),
            vec![Field::text("note", "Note", "")],
        )
    }

    pub fn resolve(inc: &Incident) -> Form {
        Form::new(
            FormKind::Resolve,
            Some(inc.id),
            vec![
                Field::text("summary", "Summary", ""),
                Field::text("override", "Override reason", ""),
            ],
        )
    }

    pub fn reopen(inc: &Incident) -> Form {
        Form::new(
            FormKind::Reopen,
            Some(inc.id),
            vec![Field::text("reason", "Reason", "")],
        )
    }

    pub fn close(inc: &Incident) -> Form {
        Form::new(FormKind::Close, Some(inc.id), vec![])
    }

    pub fn action_item(inc: &Incident) -> Form {
        Form::new(
            FormKind::ActionItem,
            Some(inc.id),
            vec![
                Field::text("text", "Action", ""),
                Field::text("owner", "Owner", ""),
                Field::text("due", "Due (YYYY-MM-DD)", ""),
                Field::text("priority", "Priority", ""),
            ],
        )
    }

    /// The review's human fields to pick from (each says whether it is
    /// written yet), starting at the first not written, with its text.
    pub fn review_field(inc: &Incident, policy: &Policy) -> Form {
        let fields: Vec<_> = policy.review.fields().filter(|f| f.is_human()).collect();
        let options = fields
            .iter()
            .map(|f| {
                use crate::domain::review::template::Input;
                let state = if inc.review_fields.contains_key(&f.id) {
                    "written"
                } else {
                    crate::domain::review::TODO
                };
                // What the value must be, where it is not free text.
                let takes = match f.input {
                    Some(Input::Number) => " (a number)".to_string(),
                    Some(Input::Choice) => format!(" ({})", f.choices.join(" / ")),
                    Some(Input::Table) => {
                        format!(" (rows of: {})", f.columns.join(" | "))
                    }
                    _ => String::new(),
                };
                choice(f.id.clone(), format!("{}{takes} — {state}", f.label))
            })
            .collect();
        let first = fields
            .iter()
            .position(|f| !inc.review_fields.contains_key(&f.id))
            .unwrap_or(0);
        let mut form = Form::new(
            FormKind::ReviewField,
            Some(inc.id),
            vec![
                Field::choice("field", "Field", options, first),
                Field::multiline("value", "Value", ""),
            ],
        );
        form.refill_review_field(inc);
        form.focused_on(1)
    }

    /// Puts the chosen field's current text in the value,
    /// unless the author has typed over what was put there.
    pub fn refill_review_field(&mut self, inc: &Incident) {
        if self.kind != FormKind::ReviewField || self.value("value") != self.prefilled.trim() {
            return;
        }
        let id = self.value("field");
        let text = inc.review_fields.get(&id).cloned().unwrap_or_default();
        self.set_text("value", &text);
        self.prefilled = text;
    }

    fn focused_on(mut self, i: usize) -> Form {
        self.focus = i.min(self.fields.len().saturating_sub(1));
        self
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    /// A field's value, trimmed; empty when absent.
    pub fn value(&self, name: &str) -> String {
        self.field(name)
            .map(|f| f.value().trim().to_string())
            .unwrap_or_default()
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    pub fn focused_mut(&mut self) -> Option<&mut Field> {
        self.fields.get_mut(self.focus)
    }

    /// Sets a choice field to the option with `value`.
    pub fn select(&mut self, name: &str, value: &str) -> bool {
        if let Some(Field {
            input: Input::Choice { options, selected },
            ..
        }) = self.field_mut(name)
            && let Some(i) = options
                .iter()
                .position(|o| o.value.eq_ignore_ascii_case(value))
        {
            *selected = i;
            return true;
        }
        false
    }

    /// Replaces a text field's content, with the cursor at its start.
    pub fn set_text(&mut self, name: &str, text: &str) {
        if let Some(Field {
            input: Input::Text { editor, multiline },
            ..
        }) = self.field_mut(name)
        {
            let mut e = new_editor(text);
            if !*multiline {
                e.set_wrap_mode(ratatui_textarea::WrapMode::None);
            }
            e.move_cursor(ratatui_textarea::CursorMove::Top);
            e.move_cursor(ratatui_textarea::CursorMove::Head);
            **editor = e;
        }
    }

    /// Whether any text field holds something typed by hand: different from
    /// what the dialog opened with (or, for an update's message, from the
    /// template last filled in).
    pub fn has_text(&self) -> bool {
        self.fields.iter().enumerate().any(|(i, f)| {
            if !matches!(f.input, Input::Text { .. }) {
                return false;
            }
            let start = if (self.kind == FormKind::Update && f.name == "text")
                || (self.kind == FormKind::ReviewField && f.name == "value")
            {
                self.prefilled.as_str()
            } else {
                self.initial.get(i).map_or("", String::as_str)
            };
            f.value().trim() != start.trim()
        })
    }

    /// The command this form describes, or what is wrong with it.
    pub fn to_action(&self) -> Result<Action, String> {
        let v = |n: &str| self.value(n);
        let opt = |n: &str| Some(self.value(n)).filter(|s| !s.is_empty());
        Ok(match self.kind {
            FormKind::Declare => {
                if v("title").is_empty() {
                    return Err("title must not be empty".into());
                }
                let impact = self.impact_value(false);
                Action::Declare {
                    title: v("title"),
                    severity: v("severity"),
                    kind: opt("kind"),
                    impact,
                    commander: None,
                }
            }
            FormKind::Severity => Action::SetSeverity {
                severity: v("severity"),
                reason: v("reason"),
            },
            FormKind::Role => {
                if v("mode") == "release" {
                    Action::ReleaseRole { role: v("role") }
                } else {
                    Action::AssignRole {
                        role: v("role"),
                        person: v("person"),
                        note: v("note"),
                    }
                }
            }
            FormKind::Update => Action::PostUpdate {
                channel: Channel::parse(&v("channel")).unwrap_or(Channel::StatusPage),
                state: Status::parse(&v("state")),
                text: v("text"),
            },
            // The requested action is part of what the log must say was asked
            // for, not only of the copied request; without a reason the server's
            // own "reason must not be empty" still applies.
            FormKind::Escalate => Action::Escalate {
                to: opt("to"),
                reason: match (v("reason"), opt("requested")) {
                    (reason, Some(req)) if !reason.is_empty() => {
                        format!("{reason} — requested action: {req}")
                    }
                    (reason, _) => reason,
                },
            },
            FormKind::Page => Action::Page {
                who: v("who"),
                reason: v("reason"),
            },
            FormKind::Contain => Action::Contain { note: v("note") },
            // An override reason is the explicit override of unmet criteria (recorded).
            FormKind::Resolve => Action::Resolve {
                summary: v("summary"),
                force: !v("override").trim().is_empty(),
                reason: v("override"),
            },
            FormKind::Reopen => Action::Reopen {
                reason: v("reason"),
            },
            FormKind::Close => Action::Close,
            FormKind::ActionItem => {
                let due = match opt("due") {
                    None => None,
                    Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        format!("due: {d:?} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01")
                    })?),
                };
                Action::AddActionItem {
                    text: v("text"),
                    owner: opt("owner"),
                    due,
                    priority: opt("priority"),
                }
            }
            FormKind::ReviewField => Action::SetReviewField {
                field: v("field"),
                value: v("value"),
            },
            FormKind::Impact => Action::UpdateImpact {
                impact: self
                    .impact_value(v("data_exposure") == "yes")
                    .unwrap_or_default(),
            },
        })
    }
}
