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
    #[error("question {question:?} has no answer number {index} (it has {count})")]
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
