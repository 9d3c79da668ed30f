//! The triage queue's two keys: declare an alert group an incident, or dismiss
//! it (runbook 002 §4.2: verify the alert is real, then declare if P1/P2).

use crate::domain::command::{Action, Command};
use crate::domain::decide::{DomainError, Out, known_severity, optional_text, title_text};
use crate::domain::event::{Event, EventBody, Impact, Report};
use crate::domain::policy::Policy;
use crate::domain::sanitize::sanitize_line;
use crate::domain::state::World;

/// `decide` for [`Action::DeclareTriaged`] and [`Action::DismissTriaged`] on
/// the triage item `reference` names.
pub(crate) fn decide(
    world: &World,
    policy: &Policy,
    cmd: &Command,
    reference: &str,
    mut out: Out,
) -> Result<Vec<Event>, DomainError> {
    let item = world
        .alerts
        .resolve(reference)
        .ok_or_else(|| DomainError::UnknownTriage(sanitize_line(reference)))?;
    let key = item.key();
    if item.declared {
        return Err(DomainError::NoChange {
            key,
            what: "declared an incident".into(),
        });
    }
    if item.dismissed.is_some() {
        return Err(DomainError::NoChange {
            key,
            what: "dismissed".into(),
        });
    }
    out.incident = item.id;
    match &cmd.action {
        Action::DeclareTriaged { severity } => {
            let severity = match severity {
                Some(s) => known_severity(policy, s)?,
                None => item.severity.clone(),
            };
            out.push(EventBody::Declared {
                title: item.title.clone(),
                severity,
                kind: item.kind.clone(),
                impact: Box::new(Impact {
                    services: item.services.clone(),
                    ..Impact::default()
                }),
            });
            let ic = out.actor.clone();
            out.push(EventBody::RoleAssigned {
                role: "ic".into(),
                person: ic,
            });
            // A report was detected when it came in, by the way its kind says.
            if let Some(intake) = &item.intake {
                out.push(EventBody::DetectionRecorded {
                    impact_started: None,
                    detected_at: Some(item.opened.at),
                    method: policy.intake_kind(intake).and_then(|k| k.detection),
                });
            }
        }
        Action::DismissTriaged { reason } => {
            let reason = optional_text("reason", reason)?;
            out.push(EventBody::TriageDismissed { reason });
        }
        _ => {}
    }
    Ok(out.events)
}

/// `decide` for [`Action::Report`]: a report that is not an alert (001
/// "reported via support … or responsible disclosure") opens a triage item
/// under the command's id, with the policy's intake kind.
pub(crate) fn report(
    world: &World,
    policy: &Policy,
    cmd: &Command,
    mut out: Out,
) -> Result<Vec<Event>, DomainError> {
    let Action::Report {
        intake,
        title,
        severity,
        reporter,
        details,
    } = &cmd.action
    else {
        return Ok(Vec::new());
    };
    if world.get(&cmd.id).is_some() || world.alerts.triage.contains_key(&cmd.id) {
        return Err(DomainError::IdReused(cmd.id));
    }
    let Some(k) = policy.intake_kind(intake) else {
        let known: Vec<&str> = policy.intake.iter().map(|k| k.id.as_str()).collect();
        return Err(DomainError::Invalid {
            field: "intake",
            message: if known.is_empty() {
                format!(
                    "unknown intake kind {:?}; the policy defines none",
                    sanitize_line(intake)
                )
            } else {
                format!(
                    "unknown intake kind {:?}; the policy defines {}",
                    sanitize_line(intake),
                    known.join(", ")
                )
            },
        });
    };
    let severity = match severity {
        Some(s) => known_severity(policy, s)?,
        None => k.severity.clone(),
    };
    out.push(EventBody::ReportReceived(Box::new(Report {
        intake: k.id.clone(),
        title: title_text(title)?,
        severity,
        kind: k.kind.clone(),
        reporter: optional_text("reporter", reporter)?,
        details: optional_text("details", details)?,
    })));
    Ok(out.events)
}
