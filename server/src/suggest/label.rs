//! Keywords and titles of a group: the terms its notes share, ranked by how much they belong
//! to this group.
//!
//! A term's score in a group of m notes is (k / m) × (k / df): k of the group's notes use it
//! (coverage) and k of the df notes of the whole board that use it are in this group
//! (specificity). Only terms used by at least two notes of the group count: a keyword is a
//! reason why notes were put together, so it must be shared. The title is the best keyword,
//! followed by up to two more that score at least half as well, joined by « · ».

use super::corpus::Corpus;

/// At most this many keywords per suggestion.
pub(crate) const MAX_KEYWORDS: usize = 5;

/// A keyword joins the title if it scores at least this fraction of the best one.
const TITLE_SCORE_RATIO: f32 = 0.5;
const MAX_TITLE_KEYWORDS: usize = 3;

/// The keywords of the group `members` (note indices), best first, and its title.
pub(crate) fn label(corpus: &Corpus, members: &[usize]) -> (String, Vec<String>) {
    let mut inside: std::collections::BTreeMap<u32, u32> = std::collections::BTreeMap::new();
    for &note in members {
        for &id in &corpus.term_sets[note] {
            *inside.entry(id).or_default() += 1;
        }
    }
    let m = members.len() as f32;
    let mut scored: Vec<(f32, u32, &str)> = inside
        .into_iter()
        .filter(|(_, k)| *k >= 2)
        .map(|(id, k)| {
            let term = &corpus.terms[id as usize];
            let k_f = k as f32;
            ((k_f / m) * (k_f / term.df as f32), k, term.display())
        })
        .collect();
    // Best score, then more notes, then alphabetical: a total order, so titles are stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    let mut keywords: Vec<(f32, String)> = Vec::new();
    for (score, _, display) in scored {
        if keywords.len() == MAX_KEYWORDS {
            break;
        }
        if !keywords.iter().any(|(_, k)| k == display) {
            keywords.push((score, display.to_owned()));
        }
    }
    let best = keywords.first().map_or(0.0, |k| k.0);
    let title_words: Vec<&str> = keywords
        .iter()
        .take(MAX_TITLE_KEYWORDS)
        .filter(|(score, _)| *score >= best * TITLE_SCORE_RATIO)
        .map(|(_, k)| k.as_str())
        .collect();
    let title = capitalize(&title_words.join(" · "));
    (title, keywords.into_iter().map(|(_, k)| k).collect())
}

/// First letter in upper case: « mobilité · transports » → « Mobilité · transports ».
pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
