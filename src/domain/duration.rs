//! Policy durations such as `15m`, `2h`, `3d` or `10bd` (business days).
//!
//! Runbooks state targets in minutes, hours, calendar days and business days
//! (runbook 003: "1 business day"). Business days skip Saturday and Sunday;
//! holidays are out of scope because no runbook names a calendar.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The unit of a [`Span`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    BusinessDays,
}

/// A duration as a runbook states it; turned into a deadline by [`Span::after`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub amount: u32,
    pub unit: Unit,
}

impl Span {
    pub const fn minutes(amount: u32) -> Self {
        Span {
            amount,
            unit: Unit::Minutes,
        }
    }

    pub const fn hours(amount: u32) -> Self {
        Span {
            amount,
            unit: Unit::Hours,
        }
    }

    pub const fn seconds(amount: u32) -> Self {
        Span {
            amount,
            unit: Unit::Seconds,
        }
    }

    /// The instant this span after `start` ends.
    pub fn after(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        let n = i64::from(self.amount);
        match self.unit {
            Unit::Seconds => start + Duration::seconds(n),
            Unit::Minutes => start + Duration::minutes(n),
            Unit::Hours => start + Duration::hours(n),
            Unit::Days => start + Duration::days(n),
            Unit::BusinessDays => {
                let mut t = start;
                // A start on a weekend counts from the next Monday, same time of day.
                while is_weekend(t) {
                    t += Duration::days(1);
                }
                let mut left = self.amount;
                while left > 0 {
                    t += Duration::days(1);
                    if !is_weekend(t) {
                        left -= 1;
                    }
                }
                t
            }
        }
    }

    /// Nominal length, used for gauges and "due soon" thresholds (a business day counts as 24 h).
    pub fn nominal(&self) -> Duration {
        let n = i64::from(self.amount);
        match self.unit {
            Unit::Seconds => Duration::seconds(n),
            Unit::Minutes => Duration::minutes(n),
            Unit::Hours => Duration::hours(n),
            Unit::Days | Unit::BusinessDays => Duration::days(n),
        }
    }
}

fn is_weekend(t: DateTime<Utc>) -> bool {
    matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: expected a whole number followed by s, m, h, d or bd (e.g. \"15m\", \"3bd\")"
)]
pub struct SpanError {
    pub input: String,
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SpanError {
            input: s.to_string(),
        };
        let t = s.trim();
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(err());
        }
        let (num, unit) = t.split_at(digits);
        let amount: u32 = num.parse().map_err(|_| err())?;
        let unit = match unit.trim() {
            "s" => Unit::Seconds,
            "m" | "min" => Unit::Minutes,
            "h" => Unit::Hours,
            "d" => Unit::Days,
            "bd" => Unit::BusinessDays,
            _ => return Err(err()),
        };
        Ok(Span { amount, unit })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Seconds => "s",
            Unit::Minutes => "m",
            Unit::Hours => "h",
            Unit::Days => "d",
            Unit::BusinessDays => "bd",
        };
        write!(f, "{}{}", self.amount, unit)
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How a [`Span`] is written on the wire, for the OpenAPI document.
pub const SPAN_PATTERN: &str = "^[0-9]+(s|m|h|d|bd)$";

/// On the wire a span is its text (`15m`), so its schema is a string with
/// [`SPAN_PATTERN`], not the struct's fields.
impl utoipa::PartialSchema for Span {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(SPAN_PATTERN))
            .description(Some(
                "a whole number and a unit: s, m, h, d or bd (business days), e.g. `15m`",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Span {}

/// Formats a signed number of seconds as a compact countdown: `4:59`, `1:02:03`, `3d 04h`, `-0:42`.
pub fn countdown(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d {h:02}h")
    } else if h > 0 {
        format!("{sign}{h}:{m:02}:{sec:02}")
    } else {
        format!("{sign}{m}:{sec:02}")
    }
}

/// Formats a duration in words for humans and templates: `1h 05m`, `12m`, `2d 3h`.
pub fn humanize(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    let (days, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if days > 0 {
        format!("{days}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_all_units() {
        assert_eq!("15m".parse::<Span>(), Ok(Span::minutes(15)));
        assert_eq!("2h".parse::<Span>(), Ok(Span::hours(2)));
        assert_eq!(
            "3bd".parse::<Span>().map(|s| s.unit),
            Ok(Unit::BusinessDays)
        );
        assert!("15".parse::<Span>().is_err());
        assert!("m".parse::<Span>().is_err());
        assert!("5 weeks".parse::<Span>().is_err());
    }

    #[test]
    fn business_days_skip_weekends() {
        // Friday 2026-11-20 10:00 + 1bd = Monday 2026-11-23 10:00.
        let fri = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single();
        let mon = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single();
        let one = Span {
            amount: 1,
            unit: Unit::BusinessDays,
        };
        assert_eq!(fri.map(|f| one.after(f)), mon);
    }

    #[test]
    fn countdown_formats() {
        assert_eq!(countdown(299), "4:59");
        assert_eq!(countdown(-42), "-0:42");
        assert_eq!(countdown(3723), "1:02:03");
        assert_eq!(countdown(3 * 86_400 + 4 * 3600), "3d 04h");
    }
}
