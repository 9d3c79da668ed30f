//! The public status page as policy data, and the rules that turn an
//! incident's severity and status into what the outside world is told.
//!
//! What is public is a decision of the process, not of the code: the page's
//! name and URL, its components (the services incidents name in their
//! [`Impact`](super::event::Impact)), and which severities may appear at all
//! live in the policy's `[status_page]` section. The rules here are the only
//! place that maps a severity to a Statuspage "impact" and an impact to a
//! component status, so the HTML, the JSON and the uptime bars always agree.

use super::event::Status;
use super::policy::{Policy, PolicyError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `[status_page]` in a policy file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageConfig {
    /// The page's title, e.g. `Example Status`. Empty: the policy's name.
    #[serde(default)]
    pub name: String,
    /// The public, absolute URL the page is reached at (links in the Atom
    /// feed and `page.url` in the JSON). Empty: links stay relative.
    #[serde(default)]
    pub url: String,
    /// Severity ids whose incidents may appear on the page. Absent: all.
    #[serde(default)]
    pub public_severities: Option<Vec<String>>,
    /// Severity id → the Statuspage impact it stands for. A severity not
    /// listed gets one by rank (worst → critical, next → major, rest → minor).
    #[serde(default)]
    pub impact: BTreeMap<String, PublicImpact>,
    /// The components, in display order. Empty: the services public incidents name.
    #[serde(default)]
    pub components: Vec<ComponentConfig>,
}

/// One component of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// The service name as incidents give it in `impact.services`.
    pub service: String,
    /// What the public reads, e.g. `Checkout`.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Statuspage's incident impact (and, for the whole page, its "indicator").
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PublicImpact {
    None,
    Minor,
    Major,
    Critical,
}

impl PublicImpact {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Statuspage's own wording for the page indicator.
    pub fn page_description(self) -> &'static str {
        match self {
            PublicImpact::None => "All Systems Operational",
            PublicImpact::Minor => "Minor Service Outage",
            PublicImpact::Major => "Partial System Outage",
            PublicImpact::Critical => "Major Service Outage",
        }
    }
}

/// Statuspage's component status, best first.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The text label shown beside the colour (colour is never the only signal).
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }

    /// How much of a minute in this state counts as downtime in the uptime
    /// figure. A degraded service is up; a partial outage counts for 30 %
    /// (the weighting Atlassian Statuspage documents for its uptime bars).
    pub fn downtime_weight(self) -> f64 {
        match self {
            ComponentStatus::Operational | ComponentStatus::DegradedPerformance => 0.0,
            ComponentStatus::PartialOutage => 0.3,
            ComponentStatus::MajorOutage => 1.0,
        }
    }
}

/// The rule: what an open incident of this impact, in this status, does to
/// the components it names. A resolved incident does nothing; one in
/// `monitoring` has a fix in place, so at worst the service is degraded.
pub fn component_status(impact: PublicImpact, status: Status) -> ComponentStatus {
    let by_impact = match impact {
        PublicImpact::None => ComponentStatus::Operational,
        PublicImpact::Minor => ComponentStatus::DegradedPerformance,
        PublicImpact::Major => ComponentStatus::PartialOutage,
        PublicImpact::Critical => ComponentStatus::MajorOutage,
    };
    match status {
        Status::Resolved => ComponentStatus::Operational,
        Status::Monitoring => by_impact.min(ComponentStatus::DegradedPerformance),
        Status::Investigating | Status::Identified => by_impact,
    }
}

impl StatusPageConfig {
    /// The page title.
    pub fn title<'a>(&'a self, policy: &'a Policy) -> &'a str {
        if self.name.trim().is_empty() {
            &policy.name
        } else {
            &self.name
        }
    }

    /// Whether incidents of this severity may appear on the page.
    pub fn is_public(&self, severity: &str) -> bool {
        self.public_severities
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s.eq_ignore_ascii_case(severity)))
    }
}

impl Policy {
    /// The Statuspage impact of a severity: configured, or by rank.
    pub fn public_impact(&self, severity: &str) -> PublicImpact {
        if let Some((_, impact)) = self
            .status_page
            .impact
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(severity))
        {
            return *impact;
        }
        match self.severity_rank(severity) {
            0 => PublicImpact::Critical,
            1 => PublicImpact::Major,
            usize::MAX => PublicImpact::None,
            _ => PublicImpact::Minor,
        }
    }
}

/// Checks `[status_page]` against the rest of the policy.
pub fn validate(policy: &Policy) -> Result<(), PolicyError> {
    let page = &policy.status_page;
    let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
    let absolute = page.url.starts_with("https://") || page.url.starts_with("http://");
    if !page.url.is_empty() && !absolute {
        return invalid(
            "status_page.url".into(),
            format!(
                "must be an absolute http(s) URL, got {:?}",
                crate::domain::sanitize::sanitize_line(&page.url)
            ),
        );
    }
    for (i, sev) in page.public_severities.iter().flatten().enumerate() {
        if policy.severity(sev).is_none() {
            return invalid(
                format!("status_page.public_severities[{i}]"),
                format!("unknown severity {sev:?}"),
            );
        }
    }
    for sev in page.impact.keys() {
        if policy.severity(sev).is_none() {
            return invalid(
                format!("status_page.impact.{sev}"),
                format!("unknown severity {sev:?}"),
            );
        }
    }
    let mut seen = BTreeSet::new();
    for (i, c) in page.components.iter().enumerate() {
        if c.service.trim().is_empty() {
            return invalid(
                format!("status_page.components[{i}].service"),
                "must not be empty".into(),
            );
        }
        if c.name.trim().is_empty() {
            return invalid(
                format!("status_page.components[{i}].name"),
                "must not be empty".into(),
            );
        }
        if !seen.insert(c.service.as_str()) {
            return invalid(
                format!("status_page.components[{i}].service"),
                format!("duplicate component service {:?}", c.service),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn monitoring_caps_at_degraded_and_resolved_is_operational() {
        use ComponentStatus::*;
        let cases = [
            (PublicImpact::Critical, Status::Investigating, MajorOutage),
            (PublicImpact::Critical, Status::Identified, MajorOutage),
            (
                PublicImpact::Critical,
                Status::Monitoring,
                DegradedPerformance,
            ),
            (PublicImpact::Critical, Status::Resolved, Operational),
            (PublicImpact::Major, Status::Investigating, PartialOutage),
            (PublicImpact::Minor, Status::Identified, DegradedPerformance),
            (PublicImpact::None, Status::Investigating, Operational),
            (PublicImpact::None, Status::Monitoring, Operational),
        ];
        for (impact, status, want) in cases {
            assert_eq!(
                component_status(impact, status),
                want,
                "{impact:?} {status:?}"
            );
        }
    }

    #[test]
    fn impact_is_configured_or_by_rank() {
        let mut p = Policy::builtin_default();
        p.status_page.impact.clear();
        assert_eq!(p.public_impact("P1"), PublicImpact::Critical);
        assert_eq!(p.public_impact("p2"), PublicImpact::Major);
        assert_eq!(p.public_impact("P4"), PublicImpact::Minor);
        assert_eq!(p.public_impact("nope"), PublicImpact::None);
        p.status_page.impact.insert("P4".into(), PublicImpact::None);
        assert_eq!(p.public_impact("P4"), PublicImpact::None);
    }

    #[test]
    fn errors_name_the_field() {
        let mut p = Policy::builtin_default();
        p.status_page.public_severities = Some(vec!["P1".into(), "P9".into()]);
        let e = validate(&p).unwrap_err().to_string();
        assert!(e.starts_with("status_page.public_severities[1]:"), "{e}");
        let mut p = Policy::builtin_default();
        p.status_page.url = "status.example.com".into();
        let e = validate(&p).unwrap_err().to_string();
        assert!(e.starts_with("status_page.url:"), "{e}");
        let mut p = Policy::builtin_default();
        let c = ComponentConfig {
            service: "api".into(),
            name: "API".into(),
            description: String::new(),
        };
        p.status_page.components = vec![c.clone(), c];
        let n = p.status_page.components.len() - 1;
        let e = validate(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("status_page.components[{n}].service:")),
            "{e}"
        );
        let mut p = Policy::builtin_default();
        p.status_page
            .impact
            .insert("P7".into(), PublicImpact::Major);
        let e = validate(&p).unwrap_err().to_string();
        assert!(e.starts_with("status_page.impact.P7:"), "{e}");
    }

    #[test]
    fn a_toml_section_parses_with_line_numbers_on_error() {
        let base = crate::domain::policy::presets::DEFAULT;
        let bad = format!("{base}\n[status_page.impact]\nP1 = \"catastrophic\"\n");
        // The default already has a [status_page.impact] table: a second one is a
        // TOML error too, so build from a policy without the section.
        let stripped: String = base.split("\n[status_page").next().unwrap().to_string();
        let bad2 = format!("{stripped}\n[status_page]\nimpact = {{ P1 = \"catastrophic\" }}\n");
        for text in [bad, bad2] {
            let e = Policy::from_toml(&text).unwrap_err().to_string();
            assert!(e.contains("line"), "{e}");
        }
    }
}
