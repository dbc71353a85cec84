//! Synonym expansion from LibreOffice's French thesaurus (Debian `mythes-fr`), measured
//! against the shared-word similarity (tests only).
//!
//! Each French note's terms are completed by the terms of their synonyms, weighted `weight`
//! (the note's own terms weigh 1 before TF-IDF), then the same TF-IDF, cosine, average linkage,
//! small-group step and titles. Synonyms are read from `thes_fr.dat` (MyThes format:
//! `word|senses` then one `(POS)|syn|syn...` line per sense): single-word synonyms only, stop
//! words dropped, each stemmed with the same Snowball stemmer as the notes; senses with more
//! than `max_sense` synonyms (generic senses) are skipped; `symmetric` also adds each link the
//! other way round; `board_only` keeps only synonyms that are terms of the board (direct links
//! between the board's words, no hidden synonym shared by two notes). Only notes analysed as
//! French are expanded.
//!
//! The thesaurus is not shipped with Atelier: the measurement reads it from
//! `ATELIER_THESAURUS_FR` (default `/tmp/mythes/usr/share/mythes/thes_fr.dat`) and is skipped
//! when the file is missing. It did not recover the themes better on both French test boards
//! (docs/clustering.md), so `suggest` does not use it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::cluster::Condensed;
use super::corpus::Vector;
use super::text::{self, Lang, Lexicon, Spellings, Stemmers};
use super::{analyse, group_and_name, Note, Options, Suggestions, Tuning, MAX_NOTE_CHARS};

/// Stemmed word → stemmed synonyms.
pub(crate) struct Thesaurus {
    synonyms: HashMap<String, HashSet<String>>,
}

impl Thesaurus {
    /// Reads a MyThes `.dat` file; `None` when it is missing.
    pub(crate) fn load(max_sense: usize, symmetric: bool) -> Option<Self> {
        let path = std::env::var("ATELIER_THESAURUS_FR")
            .unwrap_or_else(|_| "/tmp/mythes/usr/share/mythes/thes_fr.dat".to_owned());
        let data = std::fs::read_to_string(path).ok()?;
        let lexicon = Lexicon::new();
        let mut stemmers = Stemmers::new();
        let mut stem = |word: &str| -> Option<String> {
            if word.contains(' ') {
                return None;
            }
            let words = text::content_words(&text::tokenize(word), Lang::French, &lexicon);
            match words.as_slice() {
                [w] => Some(stemmers.term(Lang::French, &w.surface)),
                _ => None,
            }
        };
        let mut synonyms: HashMap<String, HashSet<String>> = HashMap::new();
        let mut head: Option<String> = None;
        for line in data.lines().skip(1) {
            if line.starts_with('(') {
                let Some(h) = &head else { continue };
                let fields: Vec<&str> = line.split('|').skip(1).collect();
                if fields.len() > max_sense {
                    continue;
                }
                for f in fields {
                    let Some(s) = stem(f) else { continue };
                    if s == *h {
                        continue;
                    }
                    synonyms.entry(h.clone()).or_default().insert(s.clone());
                    if symmetric {
                        synonyms.entry(s).or_default().insert(h.clone());
                    }
                }
            } else {
                let word = line.split('|').next().unwrap_or("");
                head = stem(word);
            }
        }
        Some(Self { synonyms })
    }

    pub(crate) fn len(&self) -> usize {
        self.synonyms.len()
    }
}

/// [`super::suggest_with`] with each French note's terms completed by their synonyms.
pub(crate) fn suggest_expanded(
    notes: &[Note],
    options: &Options,
    thesaurus: &Thesaurus,
    weight: f32,
    board_only: bool,
    tuning: Tuning,
) -> Suggestions {
    let corpus = analyse(notes, options);
    let (sim, vectors) = similarities(notes, options, thesaurus, weight, board_only);
    group_and_name(notes, options, &corpus, sim, &vectors, tuning)
}

/// The cosine similarities of the expanded vectors, and the vectors.
pub(crate) fn similarities(
    notes: &[Note],
    options: &Options,
    thesaurus: &Thesaurus,
    weight: f32,
    board_only: bool,
) -> (Condensed, Vec<Vector>) {
    let vectors = expanded_vectors(notes, options, thesaurus, weight, board_only);
    let mut postings: HashMap<u32, Vec<(usize, f32)>> = HashMap::new();
    for (note, vector) in vectors.iter().enumerate() {
        for &(id, w) in vector {
            postings.entry(id).or_default().push((note, w));
        }
    }
    let mut sim = Condensed::new(notes.len());
    for list in postings.values() {
        for (k, &(i, wi)) in list.iter().enumerate() {
            for &(j, wj) in &list[k + 1..] {
                sim.add(i, j, wi * wj);
            }
        }
    }
    (sim, vectors)
}

/// TF-IDF vectors over the notes' terms and their synonyms' terms.
/// With `board_only`, a synonym is added only if it is a term of some note of the board (direct
/// links between the board's words, no hidden shared synonym).
fn expanded_vectors(
    notes: &[Note],
    options: &Options,
    thesaurus: &Thesaurus,
    weight: f32,
    board_only: bool,
) -> Vec<Vector> {
    let lexicon = Lexicon::new();
    let texts: Vec<&str> = notes.iter().map(|n| super::truncate(&n.text, MAX_NOTE_CHARS)).collect();
    let tokens: Vec<text::Tokens> = texts.iter().map(|t| text::tokenize(t)).collect();
    let langs = text::languages(&tokens, options.language, &lexicon);
    let words: Vec<Vec<text::Word>> =
        tokens.iter().zip(&langs).map(|(t, lang)| text::content_words(t, *lang, &lexicon)).collect();
    let spellings = Spellings::new(words.iter().flatten());
    let mut stemmers = Stemmers::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut id_of = |term: &str| -> u32 {
        let next = ids.len() as u32;
        *ids.entry(term.to_owned()).or_insert(next)
    };
    let all_counts: Vec<BTreeMap<String, u32>> = words
        .iter()
        .zip(&langs)
        .map(|(note_words, lang)| {
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for word in note_words {
                *counts.entry(stemmers.term(*lang, spellings.read(word))).or_default() += 1;
            }
            counts
        })
        .collect();
    let board: HashSet<&String> = all_counts.iter().flat_map(|c| c.keys()).collect();
    let mut bags: Vec<BTreeMap<u32, f32>> = Vec::new();
    for (counts, lang) in all_counts.iter().zip(&langs) {
        let mut bag: BTreeMap<u32, f32> = BTreeMap::new();
        for (term, tf) in counts {
            bag.insert(id_of(term), 1.0 + (*tf as f32).ln());
        }
        if *lang == Lang::French && weight > 0.0 {
            for term in counts.keys() {
                for syn in thesaurus.synonyms.get(term).into_iter().flatten() {
                    if counts.contains_key(syn) || (board_only && !board.contains(syn)) {
                        continue;
                    }
                    let w = bag.entry(id_of(syn)).or_default();
                    *w = w.max(weight);
                }
            }
        }
        bags.push(bag);
    }
    let mut df: HashMap<u32, u32> = HashMap::new();
    for bag in &bags {
        for id in bag.keys() {
            *df.entry(*id).or_default() += 1;
        }
    }
    let n = notes.len() as f32;
    bags.iter()
        .map(|bag| {
            let mut v: Vector = bag
                .iter()
                .filter(|(id, _)| df[id] >= 2)
                .map(|(id, w)| (*id, w * (((1.0 + n) / (1.0 + df[id] as f32)).ln() + 1.0)))
                .collect();
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|(_, w)| *w /= norm);
            }
            v
        })
        .collect()
}
