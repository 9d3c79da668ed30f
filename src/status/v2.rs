//! The Atlassian Statuspage public API v2 shapes (`/api/v2/summary.json`,
//! `status.json`, `components.json`, `incidents.json`,
//! `incidents/unresolved.json`, `scheduled-maintenances*.json`), so existing
//! consumers, aggregators and client libraries read warroom's page unchanged.
//!
//! Field names, nesting and enum values follow Statuspage's documented
//! responses; fields warroom has no notion of (tweets, groups, showcase) are
//! present with Statuspage's neutral values, as clients expect every key.

use super::model::{Component, Incident, Page};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Serialize)]
pub struct PageJson {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: &'static str,
    pub updated_at: String,
}

#[derive(Serialize)]
pub struct StatusJson {
    pub indicator: &'static str,
    pub description: &'static str,
}

#[derive(Serialize)]
pub struct ComponentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub position: usize,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
}

#[derive(Serialize)]
pub struct IncidentUpdateJson {
    pub id: String,
    pub status: &'static str,
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    pub affected_components: Option<Vec<serde_json::Value>>,
    pub deliver_notifications: bool,
    pub custom_tweet: Option<String>,
    pub tweet_id: Option<String>,
}

#[derive(Serialize)]
pub struct IncidentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub impact: &'static str,
    pub shortlink: String,
    pub started_at: String,
    pub page_id: String,
    /// Newest first, as Statuspage lists them.
    pub incident_updates: Vec<IncidentUpdateJson>,
    pub components: Vec<ComponentJson>,
}

#[derive(Serialize)]
pub struct Summary {
    pub page: PageJson,
    pub components: Vec<ComponentJson>,
    pub incidents: Vec<IncidentJson>,
    pub scheduled_maintenances: Vec<serde_json::Value>,
    pub status: StatusJson,
}

#[derive(Serialize)]
pub struct StatusDoc {
    pub page: PageJson,
    pub status: StatusJson,
}

#[derive(Serialize)]
pub struct ComponentsDoc {
    pub page: PageJson,
    pub components: Vec<ComponentJson>,
}

#[derive(Serialize)]
pub struct IncidentsDoc {
    pub page: PageJson,
    pub incidents: Vec<IncidentJson>,
}

/// Scheduled maintenances: warroom has none yet, so the lists are empty.
#[derive(Serialize)]
pub struct MaintenancesDoc {
    pub page: PageJson,
    pub scheduled_maintenances: Vec<serde_json::Value>,
}

/// Statuspage's `incidents.json` lists the 50 most recent.
pub const INCIDENTS_LIMIT: usize = 50;

pub fn page(p: &Page) -> PageJson {
    PageJson {
        id: p.id.clone(),
        name: p.name.clone(),
        url: p.url.clone(),
        time_zone: "Etc/UTC",
        updated_at: ts(p.updated_at),
    }
}

pub fn status(p: &Page) -> StatusJson {
    StatusJson {
        indicator: p.indicator.as_str(),
        description: p.indicator.page_description(),
    }
}

fn component(p: &Page, position: usize, c: &Component) -> ComponentJson {
    ComponentJson {
        id: c.id.clone(),
        name: c.name.clone(),
        status: c.status.as_str(),
        created_at: ts(c.created_at),
        updated_at: ts(c.updated_at),
        position: position + 1,
        description: (!c.description.is_empty()).then(|| c.description.clone()),
        showcase: true,
        start_date: Some(c.created_at.date_naive().to_string()),
        group_id: None,
        page_id: p.id.clone(),
        group: false,
        only_show_if_degraded: false,
    }
}

pub fn components(p: &Page) -> Vec<ComponentJson> {
    p.components
        .iter()
        .enumerate()
        .map(|(i, c)| component(p, i, c))
        .collect()
}

/// The public link to one incident: an anchor on the page.
pub fn shortlink(p: &Page, i: &Incident) -> String {
    format!("{}#incident-{}", p.url, i.inc.id.simple())
}

fn impact(i: &Incident) -> &'static str {
    i.impact.as_str()
}

pub fn incident(p: &Page, i: &Incident) -> IncidentJson {
    let id = i.inc.id.simple().to_string();
    IncidentJson {
        id: id.clone(),
        name: i.inc.title.clone(),
        status: i.inc.status.as_str(),
        created_at: ts(i.inc.declared_at),
        updated_at: ts(i.inc.updated_at),
        monitoring_at: i.inc.monitoring_at.map(ts),
        resolved_at: i.inc.resolved_at.map(ts),
        impact: impact(i),
        shortlink: shortlink(p, i),
        started_at: ts(i.inc.declared_at),
        page_id: p.id.clone(),
        incident_updates: i
            .inc
            .posts
            .iter()
            .rev()
            .map(|post| IncidentUpdateJson {
                id: post.id.simple().to_string(),
                status: post.state.as_str(),
                body: post.body.clone(),
                incident_id: id.clone(),
                created_at: ts(post.at),
                updated_at: ts(post.at),
                display_at: ts(post.at),
                affected_components: None,
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect(),
        components: i
            .components
            .iter()
            .filter_map(|&c| p.components.get(c).map(|comp| component(p, c, comp)))
            .collect(),
    }
}

pub fn summary(p: &Page) -> Summary {
    Summary {
        page: page(p),
        components: components(p),
        incidents: p.unresolved().map(|i| incident(p, i)).collect(),
        scheduled_maintenances: Vec::new(),
        status: status(p),
    }
}

pub fn incidents(p: &Page) -> IncidentsDoc {
    IncidentsDoc {
        page: page(p),
        incidents: p
            .incidents
            .iter()
            .take(INCIDENTS_LIMIT)
            .map(|i| incident(p, i))
            .collect(),
    }
}

pub fn unresolved(p: &Page) -> IncidentsDoc {
    IncidentsDoc {
        page: page(p),
        incidents: p.unresolved().map(|i| incident(p, i)).collect(),
    }
}

pub fn maintenances(p: &Page) -> MaintenancesDoc {
    MaintenancesDoc {
        page: page(p),
        scheduled_maintenances: Vec::new(),
    }
}
