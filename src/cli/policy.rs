//! `warroom policy check|show|list`: the process as data has to be readable and
//! checkable by the people who wrote the runbook, so `check` names the line and
//! the field of every problem, and `show` prints every number, role, rule and
//! checklist the war room will enforce.
//!
//! Exit codes: 0 ok, 1 invalid policy, 2 usage error (no such file or preset).

pub mod locate;

use super::{PolicyCmd, ShowFormat};
use crate::domain::duration::Span;
use crate::domain::policy::{Cadence, Policy, Trigger, presets};
use crate::domain::sanitize::sanitize_line;
use crate::domain::template::FIELDS;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Runs one `policy` subcommand; the result is the exit code.
pub fn run(cmd: PolicyCmd) -> i32 {
    let (code, out, err) = match cmd {
        PolicyCmd::Check { file } => check(&file.to_string_lossy()),
        PolicyCmd::Show { file, format } => show(file.as_deref(), format),
        PolicyCmd::List => list(),
    };
    // A closed pipe (`warroom policy show | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stderr().write_all(err.as_bytes());
    code
}

/// Why a policy could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// No such file or preset (exit 2).
    Usage(String),
    /// The policy is wrong; the message names the file, line and field (exit 1).
    Invalid(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::Usage(_) => 2,
            LoadError::Invalid(_) => 1,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            LoadError::Usage(m) | LoadError::Invalid(m) => m,
        }
    }
}

/// A loaded policy and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub policy: Policy,
    /// `preset 002 (002-tensafe)` or the file path.
    pub origin: String,
    /// The TOML text, comments and all.
    pub text: String,
}

/// Loads a policy from a file path or a preset name (`default`, `002`,
/// `002-tensafe`); `None` is the default preset. An existing file wins over a
/// preset of the same name. The one loader: `policy check|show`, `serve
/// --policy`, the embedded session and the TUI's `policy` setting all come
/// here, so each reports a broken policy with its file, line and field.
pub fn load(spec: Option<&str>) -> Result<Loaded, LoadError> {
    let spec = spec.unwrap_or("default");
    let path = Path::new(spec);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                LoadError::Invalid(format!("{spec}: not UTF-8 text; a policy is a TOML file"))
            }
            _ => LoadError::Usage(format!("cannot read {spec}: {e}")),
        })?;
        let policy = parse_located(spec, &text)?;
        return Ok(Loaded {
            policy,
            origin: spec.to_string(),
            text,
        });
    }
    if let Some((short, stem, text)) = presets::ALL
        .iter()
        .find(|(short, stem, _)| *short == spec || *stem == spec)
    {
        let origin = format!("preset {short} ({stem}.toml)");
        let policy = parse_located(&origin, text)?;
        return Ok(Loaded {
            policy,
            origin,
            text: (*text).to_string(),
        });
    }
    let names: Vec<&str> = presets::ALL.iter().map(|(short, _, _)| *short).collect();
    Err(LoadError::Usage(if path.exists() {
        format!("{spec} is not a file")
    } else {
        format!(
            "no such file or preset: {spec} (presets: {})",
            names.join(", ")
        )
    }))
}

/// Parses `text`, turning a problem into `NAME:LINE: field F: message` plus the offending line.
fn parse_located(name: &str, text: &str) -> Result<Policy, LoadError> {
    locate::parse(text).map_err(|e| {
        let mut msg = format!("{name}:{}: ", e.line);
        if let Some(field) = &e.field {
            let _ = write!(msg, "field {field}: ");
        }
        msg.push_str(&sanitize_line(&e.message));
        if let Some(src) = text.lines().nth(e.line - 1) {
            let src = sanitize_line(src);
            let gutter = e.line.to_string().len();
            let _ = write!(
                msg,
                "\n {:>gutter$} | {src}\n {:>gutter$} | {:>col$}",
                e.line,
                "",
                "^",
                col = e.column
            );
        }
        LoadError::Invalid(msg)
    })
}

/// `(exit code, stdout, stderr)`.
type Output = (i32, String, String);

fn failed(e: &LoadError) -> Output {
    (
        e.exit_code(),
        String::new(),
        format!("warroom policy: {}\n", e.message()),
    )
}

fn check(spec: &str) -> Output {
    let loaded = match load(Some(spec)) {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    let p = &loaded.policy;
    let mut o = String::new();
    let _ = writeln!(o, "{}: ok", loaded.origin);
    let _ = writeln!(o, "  name        {}", p.name);
    let _ = writeln!(o, "  source      {}", p.source);
    let _ = writeln!(o, "  kinds       {}", p.kinds.join(", "));
    let _ = writeln!(o, "  severities  {}", p.severities.len());
    for s in &p.severities {
        let _ = writeln!(
            o,
            "    {:<10} {:<10} ack {:<5} contain {:<5} resolve {:<5} | status page {} | internal {} | customer {} | review {}",
            s.id,
            s.name,
            span(s.acknowledge),
            span(s.contain),
            span(s.resolve),
            cadence(&s.updates.status_page),
            cadence(&s.updates.internal),
            cadence(&s.updates.customer),
            review(s),
        );
    }
    let roles: Vec<String> = p
        .roles
        .iter()
        .map(|r| format!("{} ({})", r.id, r.name))
        .collect();
    let _ = writeln!(o, "  roles       {}", roles.join(", "));
    let _ = writeln!(
        o,
        "  escalation  {} automatic rules; manual path: {}",
        p.escalations.len(),
        list_or_none(&p.escalation_path, " -> ")
    );
    let lists: Vec<String> = p
        .checklists
        .iter()
        .map(|c| format!("{} ({:?}, {} items)", c.id, c.phase, c.items.len()).to_lowercase())
        .collect();
    let _ = writeln!(o, "  checklists  {}", list_or_none(&lists, ", "));
    let _ = writeln!(
        o,
        "  flowchart   {}",
        match &p.flowchart {
            Some(f) => format!("yes ({} questions)", f.questions.len()),
            None => "no".into(),
        }
    );
    let _ = writeln!(
        o,
        "  templates   ok (status page x4, internal, escalation, customer)"
    );
    let r = &p.review;
    let human = r.fields().filter(|f| f.is_human()).count();
    let _ = writeln!(
        o,
        "  review      \"{}\": {} sections, {} fields ({human} written by hand); agenda {}; action priorities {}; action review {}",
        r.title,
        r.sections.len(),
        r.fields().count(),
        if r.agenda.is_empty() {
            "none".to_string()
        } else {
            format!("{} items", r.agenda.len())
        },
        if r.action_priorities.is_empty() {
            "none".to_string()
        } else {
            r.action_priorities.join("/")
        },
        if r.action_review.is_empty() {
            "none".to_string()
        } else {
            r.action_review
                .iter()
                .map(|c| format!("{} every {}", c.priority, c.every))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let ingest = &p.ingest;
    let _ = writeln!(
        o,
        "  ingest      {} alert rule(s); declared at once: {}; all clear: {:?}; more severe alert: {:?}",
        ingest.rules.len(),
        if ingest.declare.is_empty() {
            "none (every alert is a triage item)".to_string()
        } else {
            ingest.declare.join(", ")
        },
        ingest.on_clear,
        ingest.on_more_severe
    );
    let n = &p.notify;
    if n.is_empty() && n.directory.is_empty() {
        let _ = writeln!(o, "  notify      none (no [notify] channels)");
        return (0, o, String::new());
    }
    let channels: Vec<String> = n
        .channels
        .iter()
        .map(|(name, c)| format!("{name} ({})", c.kind().label()))
        .collect();
    let _ = writeln!(
        o,
        "  notify      channels {}; {} routes; directory {}; {} tries, backoff {} up to {}",
        list_or_none(&channels, ", "),
        n.routes.len(),
        n.directory.len(),
        n.delivery.max_attempts,
        n.delivery.backoff,
        n.delivery.max_backoff
    );
    // Secrets live outside the file: check that each one named can be read
    // here (never printing a value), so a typo is found before the first page.
    let missing = crate::notify::secrets::missing(n);
    if missing.is_empty() {
        let _ = writeln!(o, "  secrets     ok (every one named can be read)");
        return (0, o, String::new());
    }
    let mut err = String::new();
    for (field, problem) in &missing {
        let _ = writeln!(err, "warroom policy: {}: {field}: {problem}", loaded.origin);
    }
    (1, o, err)
}

fn show(spec: Option<&str>, format: ShowFormat) -> Output {
    let loaded = match load(spec) {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    let out = match format {
        // The source itself: its comments say which runbook section each number came from.
        ShowFormat::Toml => loaded.text.clone(),
        ShowFormat::Json => match serde_json::to_string_pretty(&loaded.policy) {
            Ok(s) => s + "\n",
            Err(e) => return (1, String::new(), format!("warroom policy: {e}\n")),
        },
        ShowFormat::Text => text(&loaded),
    };
    (0, out, String::new())
}

fn list() -> Output {
    let mut o = String::new();
    let mut code = 0;
    let _ = writeln!(o, "{:<8} {:<26} {:<20} SOURCE", "PRESET", "FILE", "NAME");
    for (short, stem, text) in presets::ALL {
        let file = format!("{stem}.toml");
        match Policy::from_toml(text) {
            Ok(p) => {
                let _ = writeln!(o, "{short:<8} {file:<26} {:<20} {}", p.name, p.source);
            }
            Err(e) => {
                code = 1;
                let _ = writeln!(o, "{short:<8} {file:<26} INVALID: {e}");
            }
        }
    }
    (code, o, String::new())
}

fn span(s: Option<Span>) -> String {
    s.map_or_else(|| "-".into(), |s| s.to_string())
}

fn cadence(c: &Cadence) -> String {
    match (c.first, c.every) {
        (None, None) => "none".into(),
        (Some(f), None) => format!("first {f}"),
        (None, Some(e)) => format!("every {e}"),
        (Some(f), Some(e)) => format!("first {f}, every {e}"),
    }
}

fn review(s: &crate::domain::policy::Severity) -> String {
    match (s.review.required, s.review.due) {
        (true, Some(d)) => format!("required, due {d} after resolution"),
        (true, None) => "required".into(),
        (false, Some(d)) => format!("optional (within {d} if held)"),
        (false, None) => "not required".into(),
    }
}

fn list_or_none(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(sep)
    }
}

/// A rule's condition in words: `not acknowledged within 5m`, `open for 1h`, `on declaration`.
fn condition(t: Trigger, after: Span) -> String {
    match t {
        Trigger::Open if after.amount == 0 => "on declaration".into(),
        Trigger::Open => format!("still open after {after}"),
        Trigger::Unacknowledged => format!("not acknowledged within {after}"),
        Trigger::Uncontained => format!("not contained within {after}"),
        Trigger::UpdateOverdue => format!("an update overdue by {after}"),
        Trigger::Unanswered if after.amount == 0 => {
            "someone called did not answer within their response time".into()
        }
        Trigger::Unanswered => {
            format!("someone called did not answer within their response time + {after}")
        }
    }
}

/// The post-incident document: sections, and for each field where its
/// content comes from (`record: timeline`) or what a human writes (`text`).
fn review_template(o: &mut String, p: &Policy) {
    let r = &p.review;
    let _ = writeln!(o, "\nPost-incident review: \"{}: <title>\"", r.title);
    for s in &r.sections {
        let layout = format!("{:?}", s.layout).to_lowercase();
        let title = if s.title.is_empty() {
            "(header)"
        } else {
            s.title.as_str()
        };
        let _ = writeln!(o, "  {title} [{layout}]");
        for f in &s.fields {
            let mut how = Vec::new();
            if let Some(src) = &f.from {
                how.push(format!("record: {src}"));
            }
            if let Some(input) = f.input {
                let mut h = format!("written: {}", input.as_str());
                if !f.choices.is_empty() {
                    h.push_str(&format!(" ({})", f.choices.join(" / ")));
                }
                if !f.columns.is_empty() {
                    h.push_str(&format!(" ({})", f.columns.join(" | ")));
                }
                how.push(h);
            }
            let _ = writeln!(o, "      {} ({}) - {}", f.label, f.id, how.join(", "));
        }
    }
    if !r.agenda.is_empty() {
        let _ = writeln!(o, "  review meeting agenda");
        for (i, a) in r.agenda.iter().enumerate() {
            let _ = writeln!(o, "      {}. {a}", i + 1);
        }
    }
    if !r.action_priorities.is_empty() {
        let _ = writeln!(
            o,
            "  action item priorities: {}",
            r.action_priorities.join(", ")
        );
    }
    for c in &r.action_review {
        let by = if c.by.is_empty() {
            String::new()
        } else {
            format!(" by {}", c.by)
        };
        let which = if c.priority == "*" {
            "all"
        } else {
            c.priority.as_str()
        };
        let _ = writeln!(o, "  {which} action items reviewed every {}{by}", c.every);
    }
}

/// The human-readable policy: everything the war room will enforce.
fn text(loaded: &Loaded) -> String {
    let p = &loaded.policy;
    let mut o = String::new();
    let _ = writeln!(o, "Policy {} from {}", p.name, loaded.origin);
    let _ = writeln!(o, "Source: {}", p.source);
    let _ = writeln!(o, "Incident kinds: {}", p.kinds.join(", "));

    let _ = writeln!(o, "\nSeverities (worst first)");
    for s in &p.severities {
        let _ = writeln!(o, "  {} [{}] {}", s.id, s.label, s.name);
        for c in &s.criteria {
            let _ = writeln!(o, "      - {c}");
        }
        let _ = writeln!(
            o,
            "      acknowledge {}   contain {}   resolve {}",
            span(s.acknowledge),
            span(s.contain),
            span(s.resolve)
        );
        let _ = writeln!(
            o,
            "      updates: status page {}; internal {}; customer {}",
            cadence(&s.updates.status_page),
            cadence(&s.updates.internal),
            cadence(&s.updates.customer)
        );
        let _ = writeln!(o, "      post-incident review: {}", review(s));
        if !s.warroom_defaults.is_empty() {
            let _ = writeln!(
                o,
                "      warroom defaults (not in the runbook): {}",
                s.warroom_defaults.join(", ")
            );
        }
        for (clock, note) in &s.notes {
            let _ = writeln!(o, "      note on {clock}: {note}");
        }
    }

    let _ = writeln!(o, "\nRoles");
    for r in &p.roles {
        let _ = writeln!(o, "  {} - {}", r.id, r.name);
        for duty in &r.responsibilities {
            let _ = writeln!(o, "      - {duty}");
        }
        if let Some(b) = &r.backup {
            let _ = writeln!(o, "      backup: {b}");
        }
    }

    let _ = writeln!(o, "\nAutomatic escalations ({})", p.escalations.len());
    if p.escalations.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for e in &p.escalations {
        let mut scope = Vec::new();
        if !e.severities.is_empty() {
            scope.push(e.severities.join("/"));
        }
        if !e.kinds.is_empty() {
            scope.push(format!("kind {}", e.kinds.join("/")));
        }
        let scope = if scope.is_empty() {
            "any incident,".to_string()
        } else {
            format!("{},", scope.join(", "))
        };
        let _ = writeln!(
            o,
            "  {}: {scope} {} -> {}",
            e.id,
            condition(e.when, e.after),
            e.to
        );
    }
    let _ = writeln!(o, "\nManual escalation path");
    if p.escalation_path.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for (i, step) in p.escalation_path.iter().enumerate() {
        let _ = writeln!(o, "  {}. {step}", i + 1);
    }
    if !p.escalation_criteria.is_empty() {
        let _ = writeln!(o, "\nWhen to escalate by hand");
        for c in &p.escalation_criteria {
            let _ = writeln!(o, "  - {c}");
        }
    }

    let told: Vec<_> = p
        .notify
        .routes
        .iter()
        .filter(|r| !r.to.is_empty())
        .collect();
    if !told.is_empty() {
        let _ = writeln!(o, "\nWho is told");
        for r in told {
            let mut when = vec![list_or_none(&r.events, "/")];
            if !r.severities.is_empty() {
                when.push(format!("severity {}", r.severities.join("/")));
            }
            if !r.kinds.is_empty() {
                when.push(format!("kind {}", r.kinds.join("/")));
            }
            let _ = writeln!(o, "  {}: on {}", r.to.join(", "), when.join(", "));
        }
    }
    let answering: Vec<String> = p
        .notify
        .directory
        .iter()
        .filter_map(|c| c.respond_within.map(|w| format!("{} {w}", c.name)))
        .collect();
    if !answering.is_empty() {
        let _ = writeln!(o, "\nResponse times");
        let _ = writeln!(o, "  {}", answering.join(", "));
    }

    let _ = writeln!(o, "\nChecklists");
    if p.checklists.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for c in &p.checklists {
        // A time box makes the checklist a clock (due after the declaration).
        let mut boxed: Vec<String> = c.due.iter().map(|d| format!("due {d}")).collect();
        boxed.extend(
            c.due_by_severity
                .iter()
                .map(|(s, d)| format!("{s} due {d}")),
        );
        let boxed = if boxed.is_empty() {
            String::new()
        } else {
            format!(", {}", boxed.join(", "))
        };
        let _ = writeln!(
            o,
            "  {} - {} (phase {}, {} items{boxed})",
            c.id,
            c.title,
            format!("{:?}", c.phase).to_lowercase(),
            c.items.len()
        );
        for item in &c.items {
            let _ = writeln!(o, "      [ ] {} ({})", item.text, item.id);
        }
    }

    if !p.intake.is_empty() {
        let _ = writeln!(o, "\nReports (not alerts) into the triage queue");
        for k in &p.intake {
            let ack = k.acknowledge.map_or_else(
                || "acknowledge: the severity's target".to_string(),
                |a| format!("acknowledge within {a}"),
            );
            let _ = writeln!(
                o,
                "  {} - {}: {} incident, triaged at {}; {ack}",
                k.id, k.name, k.kind, k.severity
            );
        }
    }

    let _ = writeln!(o, "\nResolution");
    let _ = writeln!(
        o,
        "  stability window: {}",
        p.resolution.stability_window.map_or_else(
            || "none".into(),
            |w| format!("{w} in monitoring before resolve")
        )
    );
    let _ = writeln!(
        o,
        "  checklist: {}",
        p.resolution.checklist.as_deref().unwrap_or("none")
    );
    let _ = writeln!(o, "\nClosure (definition of done)");
    let _ = writeln!(
        o,
        "  checklists to complete: {}",
        list_or_none(&p.closure.require_checklists, ", ")
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(
        o,
        "  review completed: {}   containment marked: {}",
        yes_no(p.closure.require_review),
        yes_no(p.closure.require_contained)
    );

    let _ = writeln!(o, "\nSeverity flowchart");
    match &p.flowchart {
        None => {
            let _ = writeln!(o, "  none");
        }
        Some(f) => {
            let _ = writeln!(o, "  start: {}", f.start);
            for q in &f.questions {
                let _ = writeln!(o, "  {}: {}", q.id, q.text);
                for (i, a) in q.answers.iter().enumerate() {
                    let to = match (&a.next, &a.severity) {
                        (_, Some(s)) => format!("severity {s}"),
                        (Some(n), None) => format!("question {n}"),
                        (None, None) => "?".into(),
                    };
                    let _ = writeln!(o, "      {}. {} -> {to}", i + 1, a.label);
                }
            }
        }
    }

    let page = &p.status_page;
    let _ = writeln!(o, "\nPublic status page: {}", page.title(p));
    let _ = writeln!(
        o,
        "  url: {}",
        if page.url.is_empty() {
            "(relative links)"
        } else {
            &page.url
        }
    );
    let public: Vec<String> = p
        .severities
        .iter()
        .filter(|s| page.is_public(&s.id))
        .map(|s| format!("{} ({})", s.id, p.public_impact(&s.id).as_str()))
        .collect();
    let _ = writeln!(
        o,
        "  public severities (impact): {}",
        list_or_none(&public, ", ")
    );
    if page.components.is_empty() {
        let _ = writeln!(o, "  components: the services public incidents name");
    }
    for c in &page.components {
        let _ = writeln!(o, "  component {} = service {}", c.name, c.service);
    }

    review_template(&mut o, p);

    let _ = writeln!(o, "\nTemplates (placeholders: {})", FIELDS.join(", "));
    let t = &p.templates;
    for (name, body) in [
        ("status page: investigating", &t.status_page.investigating),
        ("status page: identified", &t.status_page.identified),
        ("status page: monitoring", &t.status_page.monitoring),
        ("status page: resolved", &t.status_page.resolved),
        ("internal", &t.internal),
        ("escalation", &t.escalation),
        ("customer", &t.customer),
    ] {
        let _ = writeln!(o, "  {name}:");
        for line in body.trim().lines() {
            let _ = writeln!(o, "{}", format!("    | {line}").trim_end());
        }
    }
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_name_is_a_usage_error() {
        let e = load(Some("no-such-policy-anywhere")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message().contains("presets: default, 000"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn presets_load_by_short_name_and_stem() {
        assert_eq!(load(None).unwrap().policy.name, "default");
        assert_eq!(load(Some("002")).unwrap().policy.name, "tensafe-002");
        assert_eq!(
            load(Some("003-security-sla")).unwrap().policy.name,
            "security-sla-003"
        );
    }

    #[test]
    fn errors_name_the_line_and_show_it() {
        let text = "name = \"x\"\n\n[[severities]]\nid = \"P1\"\nlabel = \"P1\"\nname = \"C\"\nresolve = \"5 weeks\"\n";
        let e = parse_located("bad.toml", text).unwrap_err();
        let m = e.message();
        assert!(
            m.starts_with("bad.toml:7: field severities[0].resolve: invalid duration \"5 weeks\""),
            "{m}"
        );
        assert!(
            m.contains("\n 7 | resolve = \"5 weeks\"\n   |           ^"),
            "{m}"
        );
    }
}
