//! `:report KIND "title" [severity=…] [reporter=…] [details="…"]`: a report
//! that is not an alert (a customer's, a researcher's) into the triage queue,
//! under one of the policy's intake kinds.

use super::{Ctx, Parsed, Token, known_list, opt, options, positional, severity};
use crate::domain::command::Action;

pub(super) fn parse(args: &[Token], ctx: &Ctx<'_>) -> Result<Parsed, String> {
    let opts = options(args, "report", &["severity", "sev", "reporter", "details"])?;
    let pos = positional(args);
    let kinds = || known_list(ctx.policy.intake.iter().map(|k| k.id.clone()));
    let Some(intake) = pos.first() else {
        return Err(format!(
            ":report needs a kind and a title: :report KIND \"title\"; kinds: {}",
            kinds()
        ));
    };
    let Some(k) = ctx.policy.intake_kind(intake) else {
        return Err(format!(
            "{intake}: unknown report kind; the policy defines {}",
            kinds()
        ));
    };
    let title = pos[1..].join(" ");
    if title.trim().is_empty() {
        return Err(format!(
            ":report needs a title: :report {} \"what was reported\"",
            k.id
        ));
    }
    let severity = match opt(&opts, "severity").or(opt(&opts, "sev")) {
        Some(s) => Some(severity(ctx.policy, s, &format!("severity={s}"))?.to_string()),
        None => None,
    };
    Ok(Parsed::Command {
        incident: None,
        action: Action::Report {
            intake: k.id.clone(),
            title,
            severity,
            reporter: opt(&opts, "reporter").unwrap_or_default().to_string(),
            details: opt(&opts, "details").unwrap_or_default().to_string(),
        },
    })
}
