//! The severity-classification flowchart (runbook 002 §2.2) as a pure function
//! from answers to a severity.

use super::policy::{Flowchart, Policy, PolicyError, Question};
use std::collections::BTreeSet;

/// Where a walk through the flowchart stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'f> {
    /// Another question must be answered.
    Ask(&'f Question),
    /// The answers lead to this severity id.
    Severity(String),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// `index` counts from 0; the message numbers answers from 1, as they are shown.
    #[error("question {question:?} has no answer {number} (it has {count})", number = .index + 1)]
    NoSuchAnswer {
        question: String,
        index: usize,
        count: usize,
    },
    #[error("the flowchart refers to an unknown question {0:?}")]
    UnknownQuestion(String),
    #[error("more answers than questions on the path: {0} extra")]
    TooManyAnswers(usize),
}

/// Follows `answers` (indices into each question's answers) from the start.
pub fn classify<'f>(flow: &'f Flowchart, answers: &[usize]) -> Result<Outcome<'f>, FlowError> {
    let mut current = question(flow, &flow.start)?;
    for (step, &index) in answers.iter().enumerate() {
        let answer = current
            .answers
            .get(index)
            .ok_or_else(|| FlowError::NoSuchAnswer {
                question: current.id.clone(),
                index,
                count: current.answers.len(),
            })?;
        if let Some(sev) = &answer.severity {
            let extra = answers.len() - step - 1;
            if extra > 0 {
                return Err(FlowError::TooManyAnswers(extra));
            }
            return Ok(Outcome::Severity(sev.clone()));
        }
        match &answer.next {
            Some(next) => current = question(flow, next)?,
            None => return Err(FlowError::UnknownQuestion(String::new())),
        }
    }
    Ok(Outcome::Ask(current))
}

fn question<'f>(flow: &'f Flowchart, id: &str) -> Result<&'f Question, FlowError> {
    flow.questions
        .iter()
        .find(|q| q.id == id)
        .ok_or_else(|| FlowError::UnknownQuestion(id.to_string()))
}

/// Every answer leads to exactly one of a known question or a known severity,
/// every question is reachable, and there are no cycles.
pub fn validate(flow: &Flowchart, policy: &Policy) -> Result<(), PolicyError> {
    let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
    let ids: BTreeSet<&str> = flow.questions.iter().map(|q| q.id.as_str()).collect();
    if ids.len() != flow.questions.len() {
        return invalid(
            "flowchart.questions".into(),
            "question ids must be unique".into(),
        );
    }
    if !ids.contains(flow.start.as_str()) {
        return invalid(
            "flowchart.start".into(),
            format!("unknown question {:?}", flow.start),
        );
    }
    for (i, q) in flow.questions.iter().enumerate() {
        if q.answers.is_empty() {
            return invalid(
                format!("flowchart.questions[{i}].answers"),
                "a question needs at least one answer".into(),
            );
        }
        for (j, a) in q.answers.iter().enumerate() {
            let field = format!("flowchart.questions[{i}].answers[{j}]");
            match (&a.next, &a.severity) {
                (Some(_), Some(_)) | (None, None) => {
                    return invalid(field, "give exactly one of `next` or `severity`".into());
                }
                (Some(next), None) if !ids.contains(next.as_str()) => {
                    return invalid(
                        format!("{field}.next"),
                        format!("unknown question {next:?}"),
                    );
                }
                (None, Some(sev)) if policy.severity(sev).is_none() => {
                    return invalid(
                        format!("{field}.severity"),
                        format!("unknown severity {sev:?}"),
                    );
                }
                _ => {}
            }
        }
    }
    // Depth-first walk from the start: detects cycles and unreachable questions.
    let mut reached = BTreeSet::new();
    let mut stack: Vec<(&str, Vec<&str>)> = vec![(flow.start.as_str(), vec![])];
    while let Some((id, path)) = stack.pop() {
        if path.contains(&id) {
            return invalid("flowchart".into(), format!("cycle through question {id:?}"));
        }
        reached.insert(id);
        if let Some(q) = flow.questions.iter().find(|q| q.id == id) {
            for a in &q.answers {
                if let Some(next) = &a.next {
                    let mut p = path.clone();
                    p.push(id);
                    stack.push((next.as_str(), p));
                }
            }
        }
    }
    if let Some(q) = flow
        .questions
        .iter()
        .find(|q| !reached.contains(q.id.as_str()))
    {
        return invalid(
            "flowchart.questions".into(),
            format!("question {:?} cannot be reached from the start", q.id),
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::policy::presets;

    fn policy(name: &str) -> Policy {
        Policy::from_toml(presets::find(name).unwrap()).unwrap()
    }

    fn severity(flow: &Flowchart, answers: &[usize]) -> String {
        match classify(flow, answers) {
            Ok(Outcome::Severity(s)) => s,
            other => panic!("{answers:?} should end in a severity, got {other:?}"),
        }
    }

    /// Runbook 002 §2.2, one line per way through the chart (0 = first answer).
    const PATHS_002: &[(&[usize], &str, &str)] = &[
        (&[0], "P1", "service completely unavailable for all users"),
        (&[1, 0], "P2", "a core feature is unavailable"),
        (
            &[1, 1, 0],
            "P1",
            "security incident with potential data exposure",
        ),
        (
            &[1, 1, 1, 0],
            "P2",
            ">25% of requests failing or latency >2x baseline",
        ),
        (&[1, 1, 1, 1, 0], "P2", "no workaround"),
        (
            &[1, 1, 1, 1, 1],
            "P3",
            "workaround, multiple customers affected",
        ),
        (
            &[1, 1, 1, 1, 2],
            "P4",
            "workaround, single customer or internal",
        ),
    ];

    #[test]
    fn runbook_002_flowchart_classifies_every_path() {
        for preset in ["002", "default"] {
            let p = policy(preset);
            let flow = p.flowchart.as_ref().unwrap();
            for (answers, want, why) in PATHS_002 {
                assert_eq!(severity(flow, answers), *want, "{preset}: {why}");
            }
        }
    }

    /// Walks every answer of every question: the table above is the whole chart.
    #[test]
    fn the_002_table_covers_every_leaf() {
        let p = policy("002");
        let flow = p.flowchart.as_ref().unwrap();
        let mut leaves = Vec::new();
        let mut stack: Vec<Vec<usize>> = vec![vec![]];
        while let Some(path) = stack.pop() {
            match classify(flow, &path).unwrap() {
                Outcome::Severity(_) => leaves.push(path),
                Outcome::Ask(q) => {
                    for i in 0..q.answers.len() {
                        let mut next = path.clone();
                        next.push(i);
                        stack.push(next);
                    }
                }
            }
        }
        leaves.sort();
        let mut table: Vec<Vec<usize>> = PATHS_002.iter().map(|(a, _, _)| a.to_vec()).collect();
        table.sort();
        assert_eq!(leaves, table);
    }

    #[test]
    fn partial_answers_ask_the_next_question() {
        let p = policy("002");
        let flow = p.flowchart.as_ref().unwrap();
        let ask = |answers: &[usize]| match classify(flow, answers).unwrap() {
            Outcome::Ask(q) => q.text.clone(),
            other => panic!("{answers:?}: expected a question, got {other:?}"),
        };
        assert_eq!(ask(&[]), "Is service completely unavailable for all users?");
        assert_eq!(
            ask(&[1]),
            "Is a core feature (training/inference/encryption) unavailable?"
        );
        assert_eq!(ask(&[1, 1, 1, 1]), "Is there a workaround available?");
    }

    #[test]
    fn out_of_range_and_extra_answers_are_refused() {
        let p = policy("002");
        let flow = p.flowchart.as_ref().unwrap();
        assert_eq!(
            classify(flow, &[2]),
            Err(FlowError::NoSuchAnswer {
                question: "all-unavailable".into(),
                index: 2,
                count: 2
            })
        );
        assert_eq!(
            classify(flow, &[1, 1, 1, 1, 3]),
            Err(FlowError::NoSuchAnswer {
                question: "workaround".into(),
                index: 3,
                count: 3
            })
        );
        assert_eq!(classify(flow, &[0, 1]), Err(FlowError::TooManyAnswers(1)));
        assert_eq!(
            classify(flow, &[1, 1, 0, 0, 0]),
            Err(FlowError::TooManyAnswers(2))
        );
        // Index 8 is the answer a person picks with the key 9.
        let msg = classify(flow, &[8]).unwrap_err().to_string();
        assert_eq!(
            msg,
            "question \"all-unavailable\" has no answer 9 (it has 2)"
        );
    }

    fn broken(mutate: impl FnOnce(&mut Flowchart)) -> PolicyError {
        let p = policy("002");
        let mut flow = p.flowchart.clone().unwrap();
        mutate(&mut flow);
        validate(&flow, &p).unwrap_err()
    }

    fn field(e: &PolicyError) -> &str {
        match e {
            PolicyError::Invalid { field, .. } => field,
            PolicyError::Parse(m) => panic!("expected a field error, got {m}"),
        }
    }

    #[test]
    fn malformed_flowcharts_name_the_field() {
        let e = broken(|f| f.questions[1].answers[1].next = Some("nowhere".into()));
        assert_eq!(field(&e), "flowchart.questions[1].answers[1].next");
        assert!(
            e.to_string().contains("unknown question \"nowhere\""),
            "{e}"
        );

        let e = broken(|f| f.questions[4].answers[2].severity = Some("P9".into()));
        assert_eq!(field(&e), "flowchart.questions[4].answers[2].severity");

        let e = broken(|f| f.questions[0].answers[0].next = Some("security".into()));
        assert_eq!(field(&e), "flowchart.questions[0].answers[0]");
        assert!(e.to_string().contains("exactly one of"), "{e}");

        // workaround -> all-unavailable closes a loop.
        let e = broken(|f| {
            f.questions[4].answers[0].severity = None;
            f.questions[4].answers[0].next = Some("all-unavailable".into());
        });
        assert_eq!(field(&e), "flowchart");
        assert!(e.to_string().contains("cycle"), "{e}");

        // Cutting core-feature -> security strands the rest of the chart.
        let e = broken(|f| {
            f.questions[1].answers[1].next = None;
            f.questions[1].answers[1].severity = Some("P3".into());
        });
        assert!(e.to_string().contains("cannot be reached"), "{e}");

        let e = broken(|f| f.start = "missing".into());
        assert_eq!(field(&e), "flowchart.start");

        let e = broken(|f| f.questions[2].answers.clear());
        assert_eq!(field(&e), "flowchart.questions[2].answers");
    }
}
