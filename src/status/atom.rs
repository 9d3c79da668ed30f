//! The Atom feed of status-page posts (RFC 4287), written by the
//! `atom_syndication` crate so every string is XML-escaped by construction.
//! One entry per post, newest first; entry ids are the posts' event ids
//! (`urn:uuid:`), so a feed reader never shows one post twice.

use super::model::Page;
use super::v2::shortlink;
use atom_syndication::{Content, Entry, Feed, Generator, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};

/// How many posts the feed carries.
pub const ENTRIES: usize = 100;

fn fixed(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(mime.map(str::to_string));
    l
}

/// The feed as XML text.
pub fn render(p: &Page) -> String {
    let mut posts: Vec<(&super::model::Incident, &super::projection::Post)> = p
        .incidents
        .iter()
        .flat_map(|i| i.inc.posts.iter().map(move |post| (i, post)))
        .collect();
    posts.sort_by(|a, b| b.1.at.cmp(&a.1.at).then(b.1.id.cmp(&a.1.id)));
    posts.truncate(ENTRIES);

    let entries: Vec<Entry> = posts
        .iter()
        .map(|(inc, post)| {
            let mut e = Entry::default();
            e.set_id(format!("urn:uuid:{}", post.id));
            e.set_title(Text::plain(format!(
                "{} — {}",
                inc.inc.title,
                capitalise(post.state.as_str())
            )));
            e.set_updated(fixed(post.at));
            e.set_published(Some(fixed(post.at)));
            let mut content = Content::default();
            content.set_content_type(Some("text".to_string()));
            content.set_value(Some(post.body.clone()));
            e.set_content(Some(content));
            if !p.url.is_empty() {
                e.set_links(vec![link(
                    shortlink(p, inc),
                    "alternate",
                    Some("text/html"),
                )]);
            }
            e
        })
        .collect();

    let mut feed = Feed::default();
    feed.set_title(Text::plain(p.name.clone()));
    feed.set_id(if p.url.is_empty() {
        format!("urn:uuid:{}", uuid_of(&p.id))
    } else {
        p.url.clone()
    });
    let updated = posts.first().map_or(p.updated_at, |(_, post)| post.at);
    feed.set_updated(fixed(updated));
    let mut author = Person::default();
    author.set_name(p.name.clone());
    feed.set_authors(vec![author]);
    let mut generator = Generator::default();
    generator.set_value("warroom");
    feed.set_generator(Some(generator));
    if !p.url.is_empty() {
        feed.set_links(vec![
            link(p.url.clone(), "alternate", Some("text/html")),
            link(
                format!("{}feed.atom", p.url),
                "self",
                Some("application/atom+xml"),
            ),
        ]);
    }
    feed.set_entries(entries);
    feed.to_string()
}

fn uuid_of(simple: &str) -> String {
    uuid::Uuid::parse_str(simple).map_or_else(|_| simple.to_string(), |u| u.to_string())
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
