//! The status page as HTML, rendered on the server with `maud`, which
//! escapes every interpolated string: a title or post containing markup
//! reaches the browser as text.
//!
//! The page stands on its own without JavaScript (a `<noscript>` refresh
//! keeps it current); where JavaScript runs, a small inline script listens
//! to the public stream and swaps in the fresh `<main>` when something is
//! posted. Landmarks (`header`, `main`, `footer`), a skip link, text labels
//! beside every colour, and a text summary for each uptime bar keep it
//! accessible; colours follow `prefers-color-scheme` with AA contrast.

use super::atom::capitalise;
use super::model::{Component, Day, Incident, Page};
use crate::domain::status_page::{ComponentStatus, PublicImpact};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// How often a browser without JavaScript reloads the page.
pub const NOSCRIPT_REFRESH_SECS: u32 = 60;

pub const CSS: &str = r#"
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#57606a;--card:#f6f8fa;--border:#d0d7de;
--ok:#1a7f37;--minor:#8a6100;--partial:#bc4c00;--major:#cf222e;--link:#0550ae;--focus:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--card:#161b22;
--border:#30363d;--ok:#3fb950;--minor:#d29922;--partial:#f0883e;--major:#ff7b72;--link:#79c0ff;--focus:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--link)}a:focus,summary:focus{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
.wrap{max-width:52rem;margin:0 auto;padding:1rem}
header h1{font-size:1.6rem;margin:.5rem 0}
.overall{border:2px solid var(--border);border-left-width:.6rem;border-radius:.4rem;padding:.8rem 1rem;font-size:1.2rem;font-weight:600;background:var(--card)}
.i-none{border-left-color:var(--ok)}.i-minor{border-left-color:var(--minor)}.i-major{border-left-color:var(--partial)}.i-critical{border-left-color:var(--major)}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
.incident{border:1px solid var(--border);border-radius:.4rem;padding:.75rem 1rem;margin:.75rem 0;background:var(--card)}
.incident h3{margin:0 0 .25rem;font-size:1.1rem}
.meta{color:var(--muted);font-size:.9rem;margin:0}
.updates{list-style:none;padding:0;margin:.5rem 0 0}
.updates li{border-top:1px solid var(--border);padding:.5rem 0}
.state{font-weight:700}
.body{white-space:pre-line;margin:.25rem 0 0;overflow-wrap:anywhere}
.components{list-style:none;padding:0;margin:0}
.component{border:1px solid var(--border);border-radius:.4rem;padding:.6rem 1rem;margin:.5rem 0}
.crow{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
.cname{font-weight:600}
.badge{font-weight:600}
.badge::before{content:"";display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.4em;background:currentColor}
.s-operational{color:var(--ok)}.s-degraded_performance{color:var(--minor)}.s-partial_outage{color:var(--partial)}.s-major_outage{color:var(--major)}
.bars{display:flex;gap:1px;list-style:none;padding:0;margin:.5rem 0 .25rem;height:1.8rem}
.bars li{flex:1 1 0;border-radius:1px;background:var(--ok)}
.bars li.s-degraded_performance{background:var(--minor)}.bars li.s-partial_outage{background:var(--partial)}.bars li.s-major_outage{background:var(--major)}
.uptime{color:var(--muted);font-size:.85rem;margin:0}
details{margin:.25rem 0}
footer{color:var(--muted);font-size:.9rem;border-top:1px solid var(--border);margin-top:2rem;padding-top:1rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"#;

/// Where JavaScript runs: follow the public stream and swap in the new page
/// content whenever something public changes. Without it the page is whole.
pub const SCRIPT: &str = r#"(function(){
if(!window.EventSource||!window.fetch||!window.DOMParser)return;
var busy=false,again=false,live=document.getElementById('live');
function version(){var m=document.querySelector('main');return m?m.getAttribute('data-version'):'';}
function refresh(){if(busy){again=true;return;}busy=true;
fetch(location.pathname,{cache:'no-store'}).then(function(r){return r.text();}).then(function(t){
var d=new DOMParser().parseFromString(t,'text/html');
['main','#overall','#updated'].forEach(function(s){var n=d.querySelector(s),o=document.querySelector(s);if(n&&o){o.replaceWith(n);}});
if(live){live.textContent='Page updated at '+new Date().toLocaleTimeString()+'.';}
}).catch(function(){}).then(function(){busy=false;if(again){again=false;refresh();}});}
var es=new EventSource('stream'),root=document.documentElement;
es.addEventListener('open',function(){root.setAttribute('data-stream','open');});
es.addEventListener('error',function(){root.setAttribute('data-stream','reconnecting');});
es.addEventListener('hello',function(e){if(e.data!==version())refresh();});
es.addEventListener('post',refresh);
es.addEventListener('change',refresh);
root.setAttribute('data-live','1');
})();"#;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `2026-11-23 14:02 UTC`: absolute, so the page needs no clock to stay right.
fn human(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn when(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(ts(t)) { (human(t)) } }
}

fn impact_label(i: PublicImpact) -> &'static str {
    match i {
        PublicImpact::None => "No impact",
        PublicImpact::Minor => "Minor impact",
        PublicImpact::Major => "Major impact",
        PublicImpact::Critical => "Critical impact",
    }
}

fn badge(s: ComponentStatus) -> Markup {
    html! { span class=(format!("badge s-{}", s.as_str())) { (s.label()) } }
}

fn minutes(m: f64) -> String {
    let m = m.round() as i64;
    if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

fn day_title(d: &Day) -> String {
    if d.worst == ComponentStatus::Operational {
        format!("{}: no incidents", d.date)
    } else {
        format!(
            "{}: {} ({} of downtime)",
            d.date,
            d.worst.label(),
            minutes(d.downtime_minutes)
        )
    }
}

fn component(c: &Component) -> Markup {
    let trouble: Vec<&Day> = c
        .days
        .iter()
        .filter(|d| d.worst != ComponentStatus::Operational)
        .collect();
    html! {
        li.component {
            div.crow {
                span.cname { (c.name) }
                (badge(c.status))
            }
            @if !c.description.is_empty() { p.meta { (c.description) } }
            ol.bars aria-hidden="true" {
                @for d in &c.days {
                    li class=(format!("s-{}", d.worst.as_str())) title=(day_title(d)) {}
                }
            }
            p.uptime {
                (format!("{:.2} % uptime over the last {} days", c.uptime, c.days.len()))
                @if trouble.is_empty() {
                    ". No incidents."
                } @else {
                    ". "
                    span.vh { "Days with incidents: " }
                    @for (n, d) in trouble.iter().enumerate() {
                        span.vh { (day_title(d)) @if n + 1 < trouble.len() { "; " } @else { "." } }
                    }
                }
            }
        }
    }
}

fn incident(p: &Page, i: &Incident, open: bool) -> Markup {
    let names: Vec<&str> = i
        .components
        .iter()
        .filter_map(|&c| p.components.get(c).map(|c| c.name.as_str()))
        .collect();
    let anchor = format!("incident-{}", i.inc.id.simple());
    html! {
        article.incident id=(anchor) aria-labelledby=(format!("{anchor}-t")) {
            h3 id=(format!("{anchor}-t")) { (i.inc.title) }
            p.meta {
                (capitalise(i.inc.status.as_str())) " · " (impact_label(i.impact))
                @if !names.is_empty() { " · Affects " (names.join(", ")) }
                " · Began " (when(i.inc.declared_at))
                @if let Some(r) = i.inc.resolved_at { " · Resolved " (when(r)) }
            }
            @if open {
                (updates(i))
            } @else {
                details {
                    summary { (format!("{} update{}", i.inc.posts.len(), if i.inc.posts.len() == 1 { "" } else { "s" })) }
                    (updates(i))
                }
            }
        }
    }
}

fn updates(i: &Incident) -> Markup {
    html! {
        ol.updates reversed {
            @for post in i.inc.posts.iter().rev() {
                li {
                    span.state { (capitalise(post.state.as_str())) } " — " (when(post.at))
                    p.body { (post.body) }
                }
            }
        }
    }
}

/// The whole page. `csp_safe`: no inline style attributes, one inline
/// `<style>` and one inline `<script>`, whose hashes the CSP header allows.
pub fn render(p: &Page) -> String {
    let active: Vec<&Incident> = p.unresolved().collect();
    let past: Vec<&Incident> = p.resolved().collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (p.name) " — " (p.indicator.page_description()) }
                noscript { meta http-equiv="refresh" content=(NOSCRIPT_REFRESH_SECS); }
                link rel="alternate" type="application/atom+xml" title=(format!("{} (Atom)", p.name)) href="feed.atom";
                style { (PreEscaped(CSS)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                div.wrap {
                    header {
                        h1 { (p.name) }
                        p id="overall" class=(format!("overall i-{}", p.indicator.as_str())) role="status" {
                            (p.indicator.page_description())
                        }
                    }
                    main id="main" data-version=(p.version) {
                        section aria-labelledby="active-h" {
                            h2 id="active-h" { "Active incidents" }
                            @if active.is_empty() {
                                p { "No active incidents." }
                            }
                            @for i in &active { (incident(p, i, true)) }
                        }
                        section aria-labelledby="components-h" {
                            h2 id="components-h" { "Components" }
                            @if p.components.is_empty() {
                                p { "No components are listed yet." }
                            } @else {
                                ul.components { @for c in &p.components { (component(c)) } }
                            }
                        }
                        section aria-labelledby="history-h" {
                            h2 id="history-h" { "Past incidents (last 90 days)" }
                            @if past.is_empty() {
                                p { "No incidents in the last 90 days." }
                            }
                            @for i in &past { (incident(p, i, false)) }
                        }
                    }
                    footer {
                        p id="updated" { "Last change " (when(p.updated_at)) "." }
                        p {
                            "Subscribe: " a href="feed.atom" { "Atom feed" }
                            " · JSON: " a href="api/v2/summary.json" { "summary" }
                            ", " a href="api/v2/incidents.json" { "incidents" }
                            ", " a href="api/v2/components.json" { "components" }
                        }
                        noscript { p { (format!("This page reloads itself every {NOSCRIPT_REFRESH_SECS} seconds.")) } }
                        p id="live" class="vh" aria-live="polite" {}
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}
