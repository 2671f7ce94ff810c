//! Four languages with Fluent: Kazakh, Russian, Kyrgyz, English.
//!
//! Message files live in `locales/<lang>/<capability>.ftl` and are compiled into the binary.
//! A missing message falls back to English and then to its id, so a page never fails to render;
//! the `i18n_complete` test makes sure that fallback is never needed.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
    Ky,
    En,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Kk, Lang::Ru, Lang::Ky, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::Ky => "ky",
            Lang::En => "en",
        }
    }
    /// The language's name in itself, for the switcher.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
            Lang::Ky => "Кыргызча",
            Lang::En => "English",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kk" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            "ky" => Some(Lang::Ky),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(20) {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// Message files, one per capability, per language.
macro_rules! ftl_files {
    ($($name:literal),+ $(,)?) => {
        pub const FTL_FILES: &[(&str, &str, &str)] = &[
            $(
                ("kk", $name, include_str!(concat!("../../locales/kk/", $name, ".ftl"))),
                ("ru", $name, include_str!(concat!("../../locales/ru/", $name, ".ftl"))),
                ("ky", $name, include_str!(concat!("../../locales/ky/", $name, ".ftl"))),
                ("en", $name, include_str!(concat!("../../locales/en/", $name, ".ftl"))),
            )+
        ];
    };
}
ftl_files!(
    "platform",
    "accounts",
    "directory",
    "auditlog",
    "home",
    "alarms",
    "alarms_panels",
    "notify",
    "reports",
    "reports_protect",
    "triage"
);

pub struct I18n {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

static I18N: LazyLock<I18n> = LazyLock::new(I18n::load);

impl I18n {
    fn load() -> I18n {
        let mut bundles = HashMap::new();
        for lang in Lang::ALL {
            let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            for (code, name, src) in FTL_FILES {
                if *code != lang.code() {
                    continue;
                }
                match FluentResource::try_new((*src).to_owned()) {
                    Ok(res) => {
                        if let Err(errs) = bundle.add_resource(res) {
                            tracing::error!(lang = code, file = name, ?errs, "duplicate messages");
                        }
                    }
                    Err((res, errs)) => {
                        tracing::error!(lang = code, file = name, ?errs, "fluent syntax errors");
                        let _ = bundle.add_resource(res);
                    }
                }
            }
            bundles.insert(lang, bundle);
        }
        I18n { bundles }
    }

    fn format(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundles.get(&lang)?;
        let msg = bundle.get_message(id)?;
        let pattern = msg.value()?;
        let mut errs = vec![];
        Some(bundle.format_pattern(pattern, args, &mut errs).into_owned())
    }

    pub fn has(lang: Lang, id: &str) -> bool {
        I18N.bundles.get(&lang).is_some_and(|b| b.has_message(id))
    }
}

/// A translator bound to one language; cheap to copy into every template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    pub fn t(&self, id: &str) -> String {
        I18N.format(self.lang, id, None)
            .or_else(|| I18N.format(Lang::En, id, None))
            .unwrap_or_else(|| id.to_owned())
    }

    /// A message with named arguments: `tr.args("x", &[("n", "3")])`.
    pub fn args(&self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            // Numbers stay numbers, so plural rules (one/few/many/other) apply.
            match v.parse::<f64>() {
                Ok(n) => fa.set(*k, FluentValue::from(n)),
                Err(_) => fa.set(*k, FluentValue::from((*v).to_owned())),
            }
        }
        I18N.format(self.lang, id, Some(&fa))
            .or_else(|| I18N.format(Lang::En, id, Some(&fa)))
            .unwrap_or_else(|| id.to_owned())
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_highest_supported() {
        assert_eq!(
            Lang::from_accept_language("de, ru;q=0.8, en;q=0.5"),
            Some(Lang::Ru)
        );
        assert_eq!(Lang::from_accept_language("kk-KZ"), Some(Lang::Kk));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, ky;q=0.1"),
            Some(Lang::Ky)
        );
    }

    #[test]
    fn russian_plurals_follow_cldr() {
        let ru = Tr::new(Lang::Ru);
        assert_eq!(ru.args("count-records", &[("n", "1")]), "1 запись");
        assert_eq!(ru.args("count-records", &[("n", "3")]), "3 записи");
        assert_eq!(ru.args("count-records", &[("n", "5")]), "5 записей");
        assert_eq!(ru.args("count-records", &[("n", "21")]), "21 запись");
    }
}
