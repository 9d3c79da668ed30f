//! Tab completion for the `:` line: verbs, then what each verb takes
//! (severities, roles, @people, incident keys, checklist/item ids, options).

use super::VERBS;
use crate::domain::event::{Channel, DetectionMethod, Status};
use crate::domain::policy::Policy;

/// What completion may offer.
pub struct CompleteCtx<'a> {
    pub policy: &'a Policy,
    pub people: &'a [String],
    /// Keys of incidents (`INC-3`).
    pub incidents: &'a [String],
    pub themes: &'a [&'a str],
}

/// Completions of the last word of `line`: whole lines to show in turn.
pub fn complete(line: &str, ctx: &CompleteCtx<'_>) -> Vec<String> {
    let body = line.trim_start().trim_start_matches(':');
    let ends_with_space = body.ends_with(' ');
    let words: Vec<&str> = body.split_whitespace().collect();
    let (done, last) = if ends_with_space || words.is_empty() {
        (words.as_slice(), "")
    } else {
        (&words[..words.len() - 1], words[words.len() - 1])
    };
    let prefix = {
        let cut = body.len() - last.len();
        format!(":{}", &body[..cut])
    };
    let verb = done
        .first()
        .map(|v| v.trim_start_matches('/').to_ascii_lowercase());
    let sevs = || {
        ctx.policy
            .severities
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>()
    };
    let roles = || {
        ctx.policy
            .roles
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>()
    };
    let states = || {
        Status::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let (lead, stem, pool): (&str, &str, Vec<String>) = if let Some(p) = last.strip_prefix('@') {
        ("@", p, ctx.people.to_vec())
    } else if let Some((k, v)) = last.split_once('=') {
        let pool = match k {
            "severity" | "sev" => sevs(),
            "state" => states(),
            "channel" => Channel::ALL
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            "kind" => ctx.policy.kinds.clone(),
            "inc" => ctx.incidents.to_vec(),
            "to" | "ic" => ctx.people.iter().map(|p| format!("@{p}")).collect(),
            _ => vec![],
        };
        let lead = &last[..=k.len()];
        (lead, v, pool)
    } else {
        let pool: Vec<String> = match (verb.as_deref(), done.len()) {
            (None, _) => VERBS.iter().map(|(v, _, _)| (*v).to_string()).collect(),
            (Some("sev" | "severity"), 1) => sevs(),
            (Some("kind"), 1) => ctx.policy.kinds.clone(),
            (Some("detect"), 1) => DetectionMethod::ALL
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            (Some("role"), 1) => {
                let mut r = roles();
                r.push("release".into());
                r
            }
            (Some("role"), 2) if done[1].eq_ignore_ascii_case("release") => roles(),
            (Some("take" | "decline"), 1) => roles(),
            (Some("role"), 2) => ctx.people.iter().map(|p| format!("@{p}")).collect(),
            (Some("release"), 1) => roles(),
            (Some("incident"), 1) => vec!["declare".into()],
            (Some("status"), 1) => {
                let mut s = vec!["update".to_string()];
                s.extend(states().into_iter().filter(|s| s != "resolved"));
                s
            }
            (Some("pd"), 1) => vec!["page".into()],
            (Some("pd"), 2) | (Some("page"), 1) => {
                ctx.people.iter().map(|p| format!("@{p}")).collect()
            }
            (Some("theme"), 1) => ctx.themes.iter().map(|t| (*t).to_string()).collect(),
            (Some("open" | "inc"), 1) => ctx.incidents.to_vec(),
            // checklist/item ids are shown nowhere else: complete them.
            (Some("check" | "uncheck" | "waive"), 1) => ctx
                .policy
                .checklists
                .iter()
                .flat_map(|c| c.items.iter().map(move |i| format!("{}/{}", c.id, i.id)))
                .collect(),
            (Some("impact"), _) => vec!["services=".into(), "customers=".into(), "bridge=".into()],
            (Some("filter"), 1) => ["all", "notes", "decisions", "status"]
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            (Some("incident" | "declare"), _) => {
                vec![
                    "severity=".into(),
                    "kind=".into(),
                    "impact=".into(),
                    "services=".into(),
                    "customers=".into(),
                    "bridge=".into(),
                    "ic=@".into(),
                ]
            }
            (Some("status" | "update"), _) => vec!["state=".into(), "channel=".into()],
            (Some("escalate"), _) => vec!["to=@".into()],
            (Some("resolve"), _) => vec!["force".into()],
            _ => vec![],
        };
        ("", last, pool)
    };
    let stem_lc = stem.to_ascii_lowercase();
    let mut out: Vec<String> = pool
        .into_iter()
        .filter(|c| c.to_ascii_lowercase().starts_with(&stem_lc))
        .map(|c| {
            let sep = if c.ends_with('=') || c.ends_with('@') {
                ""
            } else {
                " "
            };
            format!("{prefix}{lead}{c}{sep}")
        })
        .collect();
    out.dedup();
    out
}
