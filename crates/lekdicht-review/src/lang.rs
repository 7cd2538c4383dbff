//! The languages the review application speaks: Dutch (the default) and English.
//!
//! Only the language codes live here; the texts themselves sit beside the vocabulary they belong
//! to (`label(lang)` on each enum). No locale negotiation: the caller picks the language.

use serde::{Deserialize, Serialize};

/// A language of the user interface and of generated messages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Dutch, code `nl`.
    #[default]
    Nl,
    /// English, code `en`.
    En,
}

impl Lang {
    /// Every language, Dutch first.
    pub const ALL: [Lang; 2] = [Lang::Nl, Lang::En];

    /// The language code: `nl` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// Parses a language code (`nl`, `en`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.as_str()), Some(lang));
            let json = serde_json::to_string(&lang).unwrap();
            assert_eq!(json, format!("\"{}\"", lang.as_str()));
        }
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse("NL"), None);
    }
}
