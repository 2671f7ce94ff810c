//! Every message exists in all four languages, every message the code asks for exists, and no
//! template shows a word that is not a message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LANGS: [&str; 4] = ["en", "ru", "kk", "ky"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// Message ids of one language, with the variables each uses.
fn messages(lang: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let mut ftl = vec![];
    files(&root().join("locales").join(lang), "ftl", &mut ftl);
    for f in ftl {
        let text = std::fs::read_to_string(&f).expect("read ftl");
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some((id, _)) = line.split_once(" =")
                && !line.starts_with([' ', '#', '\t'])
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                assert!(
                    out.insert(id.to_owned(), BTreeSet::new()).is_none(),
                    "{lang}: {id} twice"
                );
                current = Some(id.to_owned());
            }
            if let Some(id) = &current {
                for var in line.split("{ $").skip(1) {
                    let name: String = var
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    out.get_mut(id).expect("id").insert(name);
                }
            }
        }
    }
    out
}

#[test]
fn every_message_in_every_language() {
    let en = messages("en");
    assert!(en.len() > 100, "English has {} messages", en.len());
    let mut problems = vec![];
    for lang in LANGS {
        let m = messages(lang);
        for (id, vars) in &en {
            match m.get(id) {
                None => problems.push(format!("{lang}: missing {id}")),
                Some(v) if v != vars => {
                    problems.push(format!("{lang}: {id} uses {v:?}, English {vars:?}"))
                }
                _ => {}
            }
        }
        for id in m.keys() {
            if !en.contains_key(id) {
                problems.push(format!("{lang}: {id} is not in English"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Literal ids in `t("...")` calls and `FieldError` codes must exist.
#[test]
fn every_message_the_code_names_exists() {
    let en = messages("en");
    let mut sources = vec![];
    files(&root().join("src"), "rs", &mut sources);
    files(&root().join("templates"), "html", &mut sources);
    let mut missing = BTreeSet::new();
    for f in sources {
        let text = std::fs::read_to_string(&f).expect("read");
        for pat in [".t(\"", "field(\"", "fail(\"", "new(\""] {
            for chunk in text.split(pat).skip(1) {
                // For field()/fail()/new() the id is the second argument.
                let id = if pat == ".t(\"" {
                    chunk.split('"').next()
                } else {
                    chunk.split('"').nth(2)
                };
                let Some(id) = id else { continue };
                let looks_like_id = (id.starts_with("err-") || pat == ".t(\"")
                    && !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if looks_like_id && id.contains('-') && !en.contains_key(id) {
                    missing.insert(format!("{id} ({})", f.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "messages used but not defined: {missing:#?}"
    );
}

/// Ids built at run time from a code: each code must have its message.
#[test]
fn every_dynamic_message_exists() {
    let en = messages("en");
    let mut need = vec![];
    for role in qorgau::platform::access::Role::ALL {
        need.push(format!("role-{}", role.code()));
        need.push(format!("home-intro-{}", role.code()));
    }
    for k in ["own", "department", "facility", "region", "country"] {
        need.push(format!("scope-{k}"));
    }
    for k in qorgau::directory::reference::DEPARTMENT_KINDS {
        need.push(format!("dept-{k}"));
    }
    for s in [
        400u16, 401, 403, 404, 405, 406, 408, 409, 413, 415, 422, 429, 500, 503,
    ] {
        let p = qorgau::platform::error::Problem::from_status(
            reqwest::StatusCode::from_u16(s).expect("status"),
        );
        need.push(format!("problem-{}", p.kind));
    }
    for k in [
        "idempotency-mismatch",
        "idempotency-in-progress",
        "duplicate",
        "totp-required",
        "cannot-disable-self",
        "alarm-closed",
        "alarm-wrong-state",
    ] {
        need.push(format!("problem-{k}"));
    }
    for c in [
        "people",
        "directory",
        "accounts",
        "audit",
        "account",
        "alarm",
        "console",
        "alarms",
    ] {
        need.push(format!("card-{c}"));
        need.push(format!("card-{c}-text"));
    }
    {
        use qorgau::alarms::model::{Kind, Outcome, Source, State};
        for o in Outcome::ALL {
            need.push(format!("alarm-outcome-{}", o.code()));
        }
        for k in [Kind::Panic, Kind::Duress, Kind::PanelSilent] {
            need.push(format!("alarm-kind-{}", k.code()));
        }
        for s in [Source::Phone, Source::Mqtt, Source::Panel, Source::System] {
            need.push(format!("alarm-source-{}", s.code()));
        }
        for s in [
            State::Raised,
            State::Acknowledged,
            State::Dispatched,
            State::OnScene,
            State::Resolved,
        ] {
            need.push(format!("alarm-state-{}", s.code()));
        }
        for s in ["acknowledged", "dispatched", "on_scene", "resolved"] {
            need.push(format!("alarm-state-now-{s}"));
        }
    }
    let missing: Vec<_> = need.iter().filter(|id| !en.contains_key(*id)).collect();
    assert!(missing.is_empty(), "{missing:?}");
}

/// Removes askama blocks, expressions and comments, leaving what a browser would show.
fn strip_askama(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let next = ["{{", "{%", "{#"]
            .iter()
            .filter_map(|o| rest.find(o).map(|i| (i, *o)))
            .min();
        let Some((i, open)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        rest = match rest[i..].find(close) {
            Some(j) => &rest[i + j + 2..],
            None => "",
        };
    }
}

fn has_words(s: &str) -> bool {
    s.chars().any(char::is_alphabetic)
}

#[test]
fn templates_show_no_literal_words() {
    let mut templates = vec![];
    files(&root().join("templates"), "html", &mut templates);
    assert!(!templates.is_empty());
    let mut found = vec![];
    for f in templates {
        let text = strip_askama(&std::fs::read_to_string(&f).expect("read"));
        // Text between tags.
        for piece in text.split('>').skip(1) {
            let visible = piece.split('<').next().unwrap_or("");
            if has_words(visible) {
                found.push(format!("{}: text {:?}", f.display(), visible.trim()));
            }
        }
        // Attributes people see or hear.
        for attr in [
            "alt=\"",
            "title=\"",
            "placeholder=\"",
            "aria-label=\"",
            "label=\"",
        ] {
            for chunk in text.split(attr).skip(1) {
                let v = chunk.split('"').next().unwrap_or("");
                if has_words(v) {
                    found.push(format!("{}: {attr}{v}\"", f.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "literal words in templates:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_stripper_sees_literal_words() {
    assert!(has_words(&strip_askama("<p>Hello {{ x }}</p>")));
    let shown = strip_askama("<p>{{ page.tr.t(\"hi\") }} — 3</p>");
    let text = shown
        .split('>')
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("x");
    assert!(!has_words(text), "{text:?}");
}
