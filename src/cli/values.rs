//! Command-line values that are domain enums (`--kind`, `--channel`,
//! `--state`, `--role`): clap's [`ValueEnum`] over the domain's own names, so
//! `--help` lists them, a typo is refused with the possible values, and the
//! domain stays free of clap.

use crate::domain::command::Access;
use crate::domain::event::{Channel, NoteKind, Status};
use clap::ValueEnum;
use clap::builder::PossibleValue;

impl ValueEnum for NoteKind {
    fn value_variants<'a>() -> &'a [Self] {
        &NoteKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for Channel {
    fn value_variants<'a>() -> &'a [Self] {
        &Channel::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let value = PossibleValue::new(self.as_str());
        // `status-page` reads as naturally as `status_page`.
        Some(match self {
            Channel::StatusPage => value.alias("status-page"),
            Channel::Internal | Channel::Customer => value,
        })
    }
}

impl ValueEnum for Status {
    fn value_variants<'a>() -> &'a [Self] {
        &Status::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for Access {
    fn value_variants<'a>() -> &'a [Self] {
        &Access::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_parses_as_the_domain_parses_it() {
        for k in NoteKind::ALL {
            assert_eq!(NoteKind::from_str(k.as_str(), true), Ok(k));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_str(&s.as_str().to_uppercase(), true), Ok(s));
        }
        for a in Access::ALL {
            assert_eq!(Access::from_str(a.as_str(), true), Ok(a));
        }
        assert_eq!(
            Channel::from_str("status-page", true),
            Ok(Channel::StatusPage)
        );
        assert!(NoteKind::from_str("rumour", true).is_err());
    }
}
