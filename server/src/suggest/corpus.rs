//! The board as vectors: each note becomes a TF-IDF vector of its terms, and notes are compared
//! by the cosine of their vectors.
//!
//! Weight of term t in note d: (1 + ln tf) × idf, with tf the count of t in d (sublinear: a
//! word repeated in one note is not a stronger sign than two notes using it), and
//! idf = ln((1 + n) / (1 + df)) + 1, df the number of notes using t (a word on every note says
//! little about any of them). Terms used by one note only are left out of the vectors: they
//! cannot make two notes alike, but would make each note's vector longer and so every one of
//! its similarities smaller. Vectors are then scaled to length 1, so that the dot product of
//! two vectors is their cosine.

use std::collections::{BTreeMap, HashMap};

use super::cluster::Condensed;
use super::text::{self, Lang, Lexicon, Spellings, Stemmers, Tokens, Word};
use super::LanguageHint;

/// A sparse vector: (term id, weight), sorted by term id.
pub(crate) type Vector = Vec<(u32, f32)>;

pub(crate) struct Term {
    /// Number of notes using the term.
    pub(crate) df: u32,
    /// Spellings the term was read as, with their counts: titles show the most frequent.
    spellings: BTreeMap<String, u32>,
}

impl Term {
    /// The spelling to show: the most frequent, then the shortest, then the first in order.
    pub(crate) fn display(&self) -> &str {
        self.spellings
            .iter()
            .max_by(|(a, na), (b, nb)| na.cmp(nb).then(b.len().cmp(&a.len())).then(b.cmp(a)))
            .map_or("", |(s, _)| s.as_str())
    }
}

pub(crate) struct Corpus {
    pub(crate) terms: Vec<Term>,
    /// Per note, in input order: its unit-length vector (empty when it has no shared term).
    pub(crate) vectors: Vec<Vector>,
    /// Per note: the ids of every term it uses, shared or not, sorted.
    pub(crate) term_sets: Vec<Vec<u32>>,
    /// Per note: its content words in order, as read (lowercase, accents from the board:
    /// `text::Spellings`), before stemming; what the word vectors look up.
    pub(crate) spelled: Vec<Vec<String>>,
    /// Per note: the language it was analysed in.
    pub(crate) langs: Vec<Lang>,
}

impl Corpus {
    /// Analyses every note's text (see `text` for the steps) and weighs the terms.
    pub(crate) fn new(texts: &[&str], hint: LanguageHint) -> Self {
        let lexicon = Lexicon::new();
        let tokens: Vec<Tokens> = texts.iter().map(|t| text::tokenize(t)).collect();
        let langs = text::languages(&tokens, hint, &lexicon);
        let words: Vec<Vec<Word>> =
            tokens.iter().zip(&langs).map(|(t, lang)| text::content_words(t, *lang, &lexicon)).collect();
        let spellings = Spellings::new(words.iter().flatten());
        let mut stemmers = Stemmers::new();

        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut terms: Vec<Term> = Vec::new();
        let mut counts: Vec<BTreeMap<u32, u32>> = Vec::with_capacity(texts.len());
        for (note_words, lang) in words.iter().zip(&langs) {
            let mut note: BTreeMap<u32, u32> = BTreeMap::new();
            for word in note_words {
                let spelling = spellings.read(word);
                let term = stemmers.term(*lang, spelling);
                let next = terms.len() as u32;
                let id = *ids.entry(term).or_insert(next);
                if id == next {
                    terms.push(Term { df: 0, spellings: BTreeMap::new() });
                }
                *terms[id as usize].spellings.entry(spelling.to_owned()).or_default() += 1;
                *note.entry(id).or_default() += 1;
            }
            for id in note.keys() {
                terms[*id as usize].df += 1;
            }
            counts.push(note);
        }

        let n = texts.len() as f32;
        let vectors = counts
            .iter()
            .map(|note| {
                let mut v: Vector = note
                    .iter()
                    .filter(|(id, _)| terms[**id as usize].df >= 2)
                    .map(|(id, tf)| {
                        let df = terms[*id as usize].df as f32;
                        let idf = ((1.0 + n) / (1.0 + df)).ln() + 1.0;
                        (*id, (1.0 + (*tf as f32).ln()) * idf)
                    })
                    .collect();
                let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|(_, w)| *w /= norm);
                }
                v
            })
            .collect();
        let term_sets = counts.iter().map(|note| note.keys().copied().collect()).collect();
        let spelled =
            words.iter().map(|note| note.iter().map(|w| spellings.read(w).to_owned()).collect()).collect();
        Self { terms, vectors, term_sets, spelled, langs }
    }

    /// The cosine similarity of every pair of notes. Accumulated term by term over the notes
    /// using it, so the cost is the sum over terms of df², not n² × terms.
    pub(crate) fn similarities(&self) -> Condensed {
        let mut postings: Vec<Vec<(usize, f32)>> = vec![Vec::new(); self.terms.len()];
        for (note, vector) in self.vectors.iter().enumerate() {
            for &(id, w) in vector {
                postings[id as usize].push((note, w));
            }
        }
        let mut sim = Condensed::new(self.vectors.len());
        for list in &postings {
            for (k, &(i, wi)) in list.iter().enumerate() {
                for &(j, wj) in &list[k + 1..] {
                    sim.add(i, j, wi * wj);
                }
            }
        }
        sim
    }
}

/// Dot product of two sparse vectors.
pub(crate) fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                total += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    total
}

/// The sum of several sparse vectors.
pub(crate) fn sum<'a>(vectors: impl Iterator<Item = &'a Vector>) -> Vector {
    let mut total: BTreeMap<u32, f32> = BTreeMap::new();
    for v in vectors {
        for &(id, w) in v {
            *total.entry(id).or_default() += w;
        }
    }
    total.into_iter().collect()
}
