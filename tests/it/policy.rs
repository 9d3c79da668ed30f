//! `warroom policy check|show|list`, run as the real binary: every shipped preset
//! passes, `show` prints the runbook's numbers, roles and checklists, and every
//! kind of broken policy exits 1 naming the line and the field.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use warroom::domain::Policy;
use warroom::domain::duration::Span;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn warroom(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("WARROOM_SERVER")
        .env_remove("WARROOM_CONFIG")
        .output()
        .expect("the warroom binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    format!("tests/fixtures/policies/{name}")
}

#[test]
fn every_preset_file_passes_check() {
    let dir = root().join("assets/policies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "000-tailscale.toml",
            "001-saas-security.toml",
            "002-tensafe.toml",
            "003-security-sla.toml",
            "004-generic.toml",
            "default.toml"
        ]
    );
    for file in &files {
        let path = file.to_string_lossy();
        let run = warroom(&["policy", "check", &path]);
        assert_eq!(run.code, 0, "{path}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.starts_with(&format!("{path}: ok")),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("templates   ok"), "{}", run.stdout);
        assert!(run.stderr.is_empty(), "{}", run.stderr);
    }
}

/// Every number in a preset carries a comment naming where it came from.
#[test]
fn every_number_in_a_preset_names_its_source() {
    for entry in std::fs::read_dir(root().join("assets/policies")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            // `key = "15m"`: a value that parses as a policy duration.
            let code = line.split('#').next().unwrap_or("");
            let duration_value = code.split_once('=').is_some_and(|(_, v)| {
                v.trim()
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .is_some_and(|v| v.parse::<Span>().is_ok())
            });
            if duration_value {
                let comment = line.split_once('#').map(|(_, c)| c.trim()).unwrap_or("");
                let stem = path.file_stem().unwrap().to_string_lossy();
                let runbook = if stem == "default" { "002" } else { &stem[..3] };
                assert!(
                    comment.contains(runbook) || comment.contains("warroom default"),
                    "{}:{}: `{}` has no comment naming runbook {runbook} or a warroom default",
                    path.display(),
                    i + 1,
                    line.trim()
                );
            }
        }
    }
}

#[test]
fn check_prints_a_summary_of_the_policy() {
    let run = warroom(&["policy", "check", "assets/policies/002-tensafe.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = &run.stdout;
    assert!(o.contains("name        tensafe-002"), "{o}");
    assert!(
        o.contains("P1         Critical   ack 5m    contain -     resolve 2h"),
        "{o}"
    );
    assert!(
        o.contains("status page first 10m, every 30m | internal every 15m | customer first 15m, every 1h | review required, due 72h"),
        "{o}"
    );
    assert!(o.contains("ic (Incident Commander), tech_lead (Technical Lead), comms (Communications Lead), scribe (Scribe), sme (Subject Matter Expert)"), "{o}");
    assert!(o.contains("6 automatic rules; manual path: Backup on-call -> Engineering Manager -> VP Engineering -> CTO"), "{o}");
    assert!(o.contains("triage (triage, 7 items)"), "{o}");
    assert!(o.contains("resolution (resolution, 6 items)"), "{o}");
    assert!(o.contains("flowchart   yes (5 questions)"), "{o}");
    assert!(
        o.contains("review      \"Post-Incident Review\": 11 sections, 25 fields (13 written by hand); agenda 6 items; action priorities P1/P2/P3; action review P1 every 7d, P2 every 14d"),
        "{o}"
    );

    let run = warroom(&["policy", "check", "assets/policies/000-tailscale.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("flowchart   no"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("0 automatic rules; manual path: Leadership"),
        "{}",
        run.stdout
    );
}

#[test]
fn show_002_prints_the_runbook_numbers_roles_and_checklists() {
    let run = warroom(&["policy", "show", "002"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = &run.stdout;
    for want in [
        "Policy tensafe-002 from preset 002 (002-tensafe.toml)",
        // §2.1 and §6.3
        "acknowledge 5m   contain -   resolve 2h",
        "updates: status page first 10m, every 30m; internal every 15m; customer first 15m, every 1h",
        "acknowledge 15m   contain -   resolve 4h",
        "post-incident review: required, due 72h after resolution",
        // §3
        "ic - Incident Commander",
        "scribe - Scribe",
        "sme - Subject Matter Expert",
        // §5.1
        "p1-unacked-5m: P1, not acknowledged within 5m -> Backup on-call",
        "p1-unacked-10m: P1, not acknowledged within 10m -> Engineering Manager",
        "p2-unacked-15m: P2, not acknowledged within 15m -> Backup on-call",
        "p1-open-30m: P1, still open after 30m -> VP Engineering",
        "p1-open-1h: P1, still open after 1h -> CTO",
        "security-lead: kind security, on declaration -> Security Lead",
        "  2. Engineering Manager",
        // §4.3, Appendix A, §7.4
        "[ ] Issue verified (not false positive)",
        "[ ] Assign roles (Tech Lead, Comms, Scribe)",
        "[ ] Monitoring confirms stability (15+ minutes)",
        "[ ] Close incident channel after 24h",
        "stability window: 15m in monitoring before resolve",
        // §2.2
        "Is a core feature (training/inference/encryption) unavailable?",
        "3. Yes, single customer or internal -> severity P4",
        // §5.4
        "| ESCALATION REQUEST",
    ] {
        assert!(o.contains(want), "missing {want:?} in\n{o}");
    }
}

#[test]
fn show_without_a_name_is_the_default_and_json_parses_as_a_policy() {
    let run = warroom(&["policy", "show", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown: Policy = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(shown, Policy::builtin_default());
    assert_eq!(shown.name, "default");

    for name in ["000", "001", "002", "003", "004", "003-security-sla"] {
        let run = warroom(&["policy", "show", name, "--format", "json"]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let p: Policy = serde_json::from_str(&run.stdout).unwrap();
        assert!(p.role("ic").is_some(), "{name}");
    }
}

#[test]
fn show_accepts_a_file_and_toml_keeps_the_source_comments() {
    let run = warroom(&["policy", "show", &fixture("minimal.toml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Policy fixture from tests/fixtures/policies/minimal.toml")
    );

    let run = warroom(&["policy", "show", "003", "--format", "toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "acknowledge = \"15m\"                # 003 \"Incident Severity and SLA\": Critical acknowledge \"15 minutes\""
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("resolve = \"3bd\""), "{}", run.stdout);
    // The printed TOML is itself a valid policy.
    assert_eq!(
        Policy::from_toml(&run.stdout).unwrap().name,
        "security-sla-003"
    );
}

#[test]
fn list_names_every_preset() {
    let run = warroom(&["policy", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", run.stdout);
    assert!(lines[0].starts_with("PRESET"));
    for (short, stem, name) in [
        ("default", "default", "default"),
        ("000", "000-tailscale", "tailscale-000"),
        ("001", "001-saas-security", "saas-security-001"),
        ("002", "002-tensafe", "tensafe-002"),
        ("003", "003-security-sla", "security-sla-003"),
        ("004", "004-generic", "generic-004"),
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{short} ")))
            .unwrap_or_else(|| panic!("no line for {short}"));
        assert!(line.contains(&format!("{stem}.toml")), "{line}");
        assert!(line.contains(name), "{line}");
    }
}

#[test]
fn a_missing_file_or_unknown_preset_is_a_usage_error() {
    let run = warroom(&[
        "policy",
        "check",
        "tests/fixtures/policies/does-not-exist.toml",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no such file or preset: tests/fixtures/policies/does-not-exist.toml"),
        "{}",
        run.stderr
    );
    let run = warroom(&["policy", "show", "009"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("presets: default, 000, 001, 002, 003, 004"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

/// `(fixture, line, field, message)`: what `policy check` must say about each broken file.
const BROKEN: &[(&str, usize, Option<&str>, &str)] = &[
    (
        "syntax-error.toml",
        17,
        Some("severities[1].name"),
        "invalid basic string",
    ),
    (
        "unknown-field.toml",
        18,
        Some("severities[1].acknowlege"),
        "unknown field `acknowlege`, expected one of",
    ),
    (
        "bad-duration.toml",
        10,
        Some("severities[0].resolve"),
        "invalid duration \"5 weeks\"",
    ),
    (
        "wrong-type.toml",
        45,
        Some("escalations[2].after"),
        "invalid type: integer `30`, expected a string",
    ),
    (
        "unknown-severity.toml",
        46,
        Some("escalations[2].severities"),
        "unknown severity \"P9\"",
    ),
    (
        "duplicate-severity.toml",
        15,
        Some("severities[1].id"),
        "duplicate severity id \"P1\"",
    ),
    (
        "missing-ic.toml",
        20,
        Some("roles"),
        "a role with id \"ic\" (incident commander) is required",
    ),
    (
        "flowchart-unknown-question.toml",
        57,
        Some("flowchart.questions[0].answers[1].next"),
        "unknown question \"workarround\"",
    ),
    (
        "flowchart-cycle.toml",
        49,
        Some("flowchart"),
        "cycle through question \"down\"",
    ),
    (
        "unknown-placeholder.toml",
        71,
        Some("templates.customer"),
        "unknown placeholder {service_name}",
    ),
    (
        "unknown-checklist.toml",
        50,
        Some("closure.require_checklists[0]"),
        "unknown checklist \"definition-of-done\"",
    ),
    (
        "review-unknown-source.toml",
        87,
        Some("review.sections[0].fields[1].from"),
        "unknown source \"detection_methd\" (sources: incident_id, title,",
    ),
    (
        "review-duplicate-field.toml",
        89,
        Some("review.sections[1].fields[1].id"),
        "duplicate field id \"summary\"",
    ),
];

#[test]
fn broken_policies_exit_1_naming_the_line_and_the_field() {
    for (file, line, field, message) in BROKEN {
        let path = fixture(file);
        let run = warroom(&["policy", "check", &path]);
        assert_eq!(run.code, 1, "{file}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{file}: {}", run.stdout);
        let first = run.stderr.lines().next().unwrap_or("");
        let mut want = format!("warroom policy: {path}:{line}: ");
        if let Some(field) = field {
            want.push_str(&format!("field {field}: "));
        }
        want.push_str(message);
        assert!(
            first.starts_with(&want),
            "{file}:\n  want {want}\n  got  {first}"
        );
        // The offending line is quoted under the message.
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        let quoted = source.lines().nth(line - 1).unwrap();
        assert!(
            run.stderr.contains(&format!(" {line} | {quoted}")),
            "{file}: line {line} not shown:\n{}",
            run.stderr
        );
    }
}

/// `serve --policy` loads through the same loader as `policy check`: a broken
/// policy stops it before it listens, naming the file, line and field.
#[test]
fn serve_reports_a_broken_policy_as_policy_check_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    for (file, line, field, message) in BROKEN {
        let path = fixture(file);
        let run = warroom(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
            "--policy",
            &path,
        ]);
        assert_eq!(run.code, 1, "{file}: {}", run.stderr);
        let mut want = format!("warroom: {path}:{line}: ");
        if let Some(field) = field {
            want.push_str(&format!("field {field}: "));
        }
        want.push_str(message);
        assert!(
            run.stderr.lines().any(|l| l.starts_with(&want)),
            "{file}:\n  want {want}\n  got  {}",
            run.stderr
        );
        let source = std::fs::read_to_string(root().join(&path)).unwrap();
        let quoted = source.lines().nth(line - 1).unwrap();
        assert!(
            run.stderr.contains(&format!(" {line} | {quoted}")),
            "{file}: line {line} not shown:\n{}",
            run.stderr
        );
    }
    assert!(
        !db.exists(),
        "nothing was created for a policy that does not load"
    );
}

/// The fixtures differ from the valid one only where they are meant to break.
#[test]
fn fixtures_are_broken_only_on_purpose() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policies");
    let run = warroom(&["policy", "check", &fixture("minimal.toml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "minimal.toml" {
            assert!(
                BROKEN.iter().any(|(f, ..)| *f == name),
                "{name} is not checked by broken_policies_exit_1_naming_the_line_and_the_field"
            );
            count += 1;
        }
    }
    assert_eq!(count, BROKEN.len());
}

#[test]
fn the_caret_points_at_the_unknown_placeholder_in_a_multi_line_template() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("assets/policies/002-tensafe.toml"))
        .unwrap()
        // The status page's first (investigating) template line, not the
        // internal one-liner that also says "Impact: {impact}".
        .replacen(
            "\nImpact: {impact}\n",
            "\nUsers may experience {symptoms}.\n",
            1,
        );
    let path = dir.path().join("custom.toml");
    std::fs::write(&path, &text).unwrap();
    let line = text.lines().position(|l| l.contains("{symptoms}")).unwrap() + 1;
    let run = warroom(&["policy", "check", &path.to_string_lossy()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "custom.toml:{line}: field templates.status_page.investigating: unknown placeholder {{symptoms}}"
        )),
        "{}",
        run.stderr
    );
    let caret = run.stderr.lines().last().unwrap();
    assert!(
        caret.ends_with(&format!("{}^", " ".repeat("Users may experience ".len()))),
        "{caret:?}"
    );
}

/// `policy show` prints each preset's review template: 003's postmortem
/// table field by field, 000's risk register, 002's agenda and cadence.
#[test]
fn show_prints_the_review_template() {
    let run = warroom(&["policy", "show", "003"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = &run.stdout;
    assert!(o.contains("Post-incident review: \"Postmortem: <title>\"\n  (header) [table]\n      Incident ID (incident_id) - record: incident_id\n"), "{o}");
    assert!(
        o.contains(
            "      Detection Method (detection_method) - record: detection_method, written: text\n"
        ),
        "{o}"
    );
    assert!(
        o.contains("      Owners and Due Dates (owners_due) - record: owners_due\n"),
        "{o}"
    );
    assert!(
        o.contains("  all action items reviewed every 7d by the weekly security review"),
        "{o}"
    );
    let run = warroom(&["policy", "show", "000"]);
    assert!(
        run.stdout.contains(
            "      Newly Identified Risks (risks) - written: table (Risk | Risk register entry)"
        ),
        "{}",
        run.stdout
    );
    let run = warroom(&["policy", "show", "002"]);
    let o = &run.stdout;
    assert!(
        o.contains("      Requests Failed (requests_failed) - written: number"),
        "{o}"
    );
    assert!(
        o.contains(
            "      3. Root Cause Discussion (20 min): technical deep dive; contributing factors"
        ),
        "{o}"
    );
    assert!(
        o.contains("  P1 action items reviewed every 7d by Engineering Manager"),
        "{o}"
    );
}
