//! Clustering suggestions for post-it workshops (affinity mapping).
//!
//! After silent writing, the facilitator asks for groupings: [`suggest`] groups a board's notes
//! by what they say and names each group by the words its notes share; the facilitator
//! accepts, edits or rejects each suggestion. French first (accents, elisions, stop words,
//! Snowball stemming, word vectors), English too, detected per note.
//!
//! Pure and deterministic: no IO, no clock, no mutable global state (the word-vector table is
//! compiled in and parsed once); the same notes in the same order give the same suggestions.
//! Pipeline, one module per step:
//!
//! - `text`: tokenise, elisions, language, stop words, accents, stems;
//! - `corpus`: TF-IDF vectors of the shared words and their cosine similarities;
//! - `vectors` (French boards): each note's meaning from French word vectors, joined with its
//!   shared words into one vector per note, compared by cosine; the join threshold is then
//!   relative to the board ([`Relative`]);
//! - `cluster`: average-linkage agglomerative clustering down to a similarity threshold;
//! - here: groups smaller than [`Options::min_cluster_size`] are dissolved, and each of their
//!   notes joins the kept group it is most like if it is close enough; the largest groups
//!   become suggestions;
//! - `label`: keywords and titles, from the shared words (from the most central word of a
//!   group whose notes share none).
//!
//! English boards (and `language: "en"`) use the shared words alone, with absolute thresholds
//! ([`Tuning`]). `lsa` and `thesaurus` (compiled for the tests only) hold methods measured
//! against these and not adopted: docs/clustering.md.
//!
//! Cost for n notes: O(n²) time and n(n − 1)/2 `f32` of memory for the similarities (8 MB for
//! 2,000 notes, 50 MB at the cap of [`MAX_NOTES`]). See docs/clustering.md for the method, its
//! limits and its measured quality and speed.

mod cluster;
mod corpus;
mod label;
#[cfg(test)]
mod lsa;
#[cfg(test)]
mod tests;
mod text;
#[cfg(test)]
mod thesaurus;
mod vectors;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use corpus::Corpus;

/// More notes than this are refused ([`SuggestError::TooManyNotes`]): memory grows as n².
pub const MAX_NOTES: usize = 5_000;

/// Only the first this many characters of a note are read. A post-it holds a few dozen words;
/// this bounds the work a pasted text can cause.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// Longer note ids are refused ([`SuggestError::IdTooLong`]). Board ids are UUIDs (36 bytes).
pub const MAX_ID_BYTES: usize = 128;

/// Upper bound of [`Options::max_clusters`].
pub const MAX_CLUSTERS: usize = 100;

/// One sticky note: its id (returned in suggestions) and its plain text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub id: String,
    pub text: String,
}

/// The language notes are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LanguageHint {
    /// Detected per note from its function words; notes without any take the board's language.
    #[default]
    Auto,
    /// Every note is French.
    Fr,
    /// Every note is English.
    En,
}

/// What the facilitator may tune. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Language of the notes (default: detected).
    pub language: LanguageHint,
    /// At most this many suggestions, the largest first (1 to 100, default 20).
    pub max_clusters: usize,
    /// Smallest group suggested (2 or more, default 3). The notes of smaller groups join a
    /// suggested group they are close to, or stay unclustered.
    pub min_cluster_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { language: LanguageHint::Auto, max_clusters: 20, min_cluster_size: 3 }
    }
}

/// A proposed group of notes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Suggestion {
    /// Up to three keywords joined by « · », the first capitalised: « Cantine · producteurs ».
    pub title: String,
    /// Up to five words the notes share, best first, as most often written (with accents); or,
    /// when they share none (`keywords_shared` false), the group's most central word.
    pub keywords: Vec<String>,
    /// Whether `keywords` are words at least two of the notes share (true), or the one word
    /// closest in meaning to the whole group, whose notes share no word (false: grouped by
    /// meaning, on French boards).
    pub keywords_shared: bool,
    /// The notes of the group, the most typical first (closest to the group's centre).
    pub note_ids: Vec<String>,
    /// Average similarity between two notes of the group, from 0 (nothing in common) to 1
    /// (same words).
    pub cohesion: f32,
}

/// Every suggestion, and the notes that are in none.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Suggestions {
    /// The largest groups first (then the most cohesive).
    pub clusters: Vec<Suggestion>,
    /// Notes in no suggestion, in input order: empty, too short, or like no other note.
    pub unclustered: Vec<String>,
}

/// Why no suggestion could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuggestError {
    #[error("too many notes: {count}, at most {max}")]
    TooManyNotes { count: usize, max: usize },
    #[error("a note id is longer than {max} bytes")]
    IdTooLong { max: usize },
    #[error("note id {0:?} appears more than once")]
    DuplicateId(String),
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
}

/// Groups `notes` by textual similarity and names the groups.
///
/// Deterministic for a given input (notes and their order). Errors only on input that breaks
/// the limits ([`MAX_NOTES`], [`MAX_ID_BYTES`], unique ids, option ranges); texts longer than
/// [`MAX_NOTE_CHARS`] are read up to that length.
pub fn suggest(notes: &[Note], options: &Options) -> Result<Suggestions, SuggestError> {
    check(notes, options)?;
    let corpus = analyse(notes, options);
    match vectors::french().and_then(|table| vectors::meanings(&corpus, options.language, table)) {
        Some(meanings) => {
            let meanings = meanings.with_words(&corpus.vectors, RELATIVE.words);
            Ok(by_meaning(notes, options, &corpus, &meanings, RELATIVE).0)
        }
        None => Ok(by_shared_words(notes, options, &corpus, TUNING)),
    }
}

/// Groups by the words the notes share (TF-IDF cosine), cut at `tuning`'s absolute thresholds.
fn by_shared_words(notes: &[Note], options: &Options, corpus: &Corpus, tuning: Tuning) -> Suggestions {
    group_and_name(notes, options, corpus, corpus.similarities(), &corpus.vectors, tuning)
}

/// How a French board's word-vector similarities are cut into groups. The join threshold is
/// relative to the board: the `quantile` of its pairwise similarities (notes join while they
/// are about as alike as the closest 1 % of pairs). A board's closest pairs sit just above the
/// level where no group of the minimum size forms at all, so while fewer than `min_placed` of
/// the notes with a vector end up in a group, the threshold is lowered by `step`, down to
/// `floor`. Chosen on the first two French test boards, then checked on the third
/// (docs/clustering.md).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Relative {
    pub(crate) quantile: f32,
    pub(crate) min_placed: f32,
    pub(crate) step: f32,
    /// The threshold is never lowered below this.
    pub(crate) floor: f32,
    /// Weight of the shared words against the meaning (`vectors::Meanings::with_words`).
    pub(crate) words: f32,
    /// As [`Tuning::attach`].
    pub(crate) attach: f32,
}

const RELATIVE: Relative =
    Relative { quantile: 0.99, min_placed: 0.6, step: 0.0125, floor: 0.15, words: 0.25, attach: 0.05 };

/// Groups by word-vector similarity, cut by `rule`; keywords and titles still come from the
/// words the notes share (a vector explains nothing). Also returns the join threshold used.
pub(crate) fn by_meaning(
    notes: &[Note],
    options: &Options,
    corpus: &Corpus,
    meanings: &vectors::Meanings,
    rule: Relative,
) -> (Suggestions, f32) {
    let similarities = meanings.similarities(corpus.similarities());
    let present = meanings.present();
    let with_vector = present.iter().filter(|p| **p).count();
    let mut join = quantile(&similarities, &present, rule.quantile);
    let index: std::collections::HashMap<&str, usize> =
        notes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    loop {
        let tuning = Tuning { join, attach: rule.attach };
        let out = group_and_name(notes, options, corpus, similarities.clone(), &meanings.sparse, tuning);
        let placed: usize =
            out.clusters.iter().flat_map(|c| &c.note_ids).filter(|id| present[index[id.as_str()]]).count();
        if join - rule.step < rule.floor || placed as f32 >= rule.min_placed * with_vector as f32 {
            return (name_by_meaning(out, meanings, &index), join);
        }
        join -= rule.step;
    }
}

/// A group whose notes share no word has no keyword: its title is then its most central word.
fn name_by_meaning(
    mut out: Suggestions,
    meanings: &vectors::Meanings,
    index: &std::collections::HashMap<&str, usize>,
) -> Suggestions {
    for cluster in out.clusters.iter_mut().filter(|c| c.keywords.is_empty()) {
        let members: Vec<usize> = cluster.note_ids.iter().map(|id| index[id.as_str()]).collect();
        if let Some(word) = meanings.central_word(&members) {
            cluster.title = label::capitalize(word);
            cluster.keywords = vec![word.to_owned()];
            cluster.keywords_shared = false;
        }
    }
    out
}

/// The `q` quantile of the similarities of pairs of notes that both have a vector (the others
/// are 0 and say nothing), over at most about a million pairs taken at a regular stride:
/// deterministic. 1 when there is no such pair.
fn quantile(similarities: &cluster::Condensed, present: &[bool], q: f32) -> f32 {
    let n = present.len();
    let with_vector = present.iter().filter(|p| **p).count();
    let pairs = with_vector * with_vector.saturating_sub(1) / 2;
    if pairs == 0 {
        return 1.0;
    }
    let stride = pairs.div_ceil(1_000_000);
    let mut values: Vec<f32> = Vec::with_capacity(pairs / stride + 1);
    let mut k = 0usize;
    for i in (0..n).filter(|&i| present[i]) {
        for j in (i + 1..n).filter(|&j| present[j]) {
            if k.is_multiple_of(stride) {
                values.push(similarities.get(i, j));
            }
            k += 1;
        }
    }
    let at = ((values.len() - 1) as f32 * q).round() as usize;
    *values.select_nth_unstable_by(at, f32::total_cmp).1
}

/// The two thresholds of the method. Chosen by measuring the test boards over a grid
/// (`sweep_tuning` in the tests; docs/clustering.md): with the default minimum size, every
/// join threshold in 0.10..=0.14 gives the same groups, and the values are taken inside that
/// plateau rather than at the best point of one test board.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Groups are joined while the average cosine similarity of their notes is at least this.
    pub(crate) join: f32,
    /// A note of a group smaller than the minimum joins the kept group it is most like, if
    /// its average similarity to that group's notes is at least this.
    pub(crate) attach: f32,
}

const TUNING: Tuning = Tuning { join: 0.12, attach: 0.05 };

/// The shared-word method alone, with other thresholds: the tests measure it around the chosen
/// ones, and compare the word vectors with it.
#[cfg(test)]
pub(crate) fn suggest_with(
    notes: &[Note],
    options: &Options,
    tuning: Tuning,
) -> Result<Suggestions, SuggestError> {
    check(notes, options)?;
    Ok(by_shared_words(notes, options, &analyse(notes, options), tuning))
}

/// The board's notes as a corpus (up to [`MAX_NOTE_CHARS`] characters of each).
pub(crate) fn analyse(notes: &[Note], options: &Options) -> Corpus {
    let texts: Vec<&str> = notes.iter().map(|n| truncate(&n.text, MAX_NOTE_CHARS)).collect();
    Corpus::new(&texts, options.language)
}

/// The steps after the similarities: clustering, small groups, order, cap and names.
/// `attach_by` gives the vectors the small-group step compares notes with (the TF-IDF
/// vectors; the tests' alternative similarities pass their own).
pub(crate) fn group_and_name(
    notes: &[Note],
    options: &Options,
    corpus: &Corpus,
    similarities: cluster::Condensed,
    attach_by: &impl Embedding,
    tuning: Tuning,
) -> Suggestions {
    let roots = cluster::average_linkage(similarities, tuning.join);

    // Groups in order of their first note.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_root = vec![usize::MAX; notes.len()];
    for (note, &root) in roots.iter().enumerate() {
        if group_of_root[root] == usize::MAX {
            group_of_root[root] = groups.len();
            groups.push(Vec::new());
        }
        groups[group_of_root[root]].push(note);
    }
    let (mut kept, small): (Vec<Vec<usize>>, Vec<Vec<usize>>) =
        groups.into_iter().partition(|members| members.len() >= options.min_cluster_size);
    attach(attach_by, &mut kept, small.into_iter().flatten(), tuning.attach);

    let mut kept: Vec<Group> = kept.into_iter().map(|members| Group::new(attach_by, members)).collect();
    kept.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(b.cohesion.total_cmp(&a.cohesion))
            .then(a.first.cmp(&b.first))
    });
    kept.truncate(options.max_clusters);

    let mut clustered = vec![false; notes.len()];
    let clusters = kept
        .into_iter()
        .map(|group| {
            let (title, keywords) = label::label(corpus, &group.members);
            for &i in &group.members {
                clustered[i] = true;
            }
            Suggestion {
                title,
                keywords_shared: !keywords.is_empty(),
                keywords,
                note_ids: group.members.iter().map(|&i| notes[i].id.clone()).collect(),
                cohesion: group.cohesion,
            }
        })
        .collect();
    let unclustered = notes.iter().zip(&clustered).filter(|(_, c)| !**c).map(|(n, _)| n.id.clone()).collect();
    Suggestions { clusters, unclustered }
}

/// What the small-group step compares notes with: vectors that can be summed into a group's
/// centre and dotted with a note's.
pub(crate) trait Embedding {
    /// The sum of the vectors of `members`, as a sparse vector.
    fn centre(&self, members: &[usize]) -> corpus::Vector;
    /// The dot product of `note`'s vector with a centre.
    fn dot(&self, note: usize, centre: &[(u32, f32)]) -> f32;
    /// Whether `note` has no vector (no shared term).
    fn is_empty(&self, note: usize) -> bool;
}

impl Embedding for Vec<corpus::Vector> {
    fn centre(&self, members: &[usize]) -> corpus::Vector {
        corpus::sum(members.iter().map(|&i| &self[i]))
    }
    fn dot(&self, note: usize, centre: &[(u32, f32)]) -> f32 {
        corpus::dot(&self[note], centre)
    }
    fn is_empty(&self, note: usize) -> bool {
        self[note].is_empty()
    }
}

/// Each of `loose` joins the group of `kept` it is most like on average (ties: the first),
/// if that average similarity is positive and at least `threshold`. Every note is compared
/// with the groups as they were before any joined, so the order of the notes does not matter.
fn attach(
    vectors: &impl Embedding,
    kept: &mut [Vec<usize>],
    loose: impl Iterator<Item = usize>,
    threshold: f32,
) {
    let centres: Vec<(corpus::Vector, f32)> =
        kept.iter().map(|m| (vectors.centre(m), m.len() as f32)).collect();
    let mut joins = Vec::new();
    for note in loose {
        if vectors.is_empty(note) {
            continue;
        }
        let mut best: Option<(usize, f32)> = None;
        for (g, (sum, size)) in centres.iter().enumerate() {
            let s = vectors.dot(note, sum) / size;
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((g, s));
            }
        }
        if let Some((g, s)) = best {
            if s > 0.0 && s >= threshold {
                joins.push((g, note));
            }
        }
    }
    for (g, note) in joins {
        kept[g].push(note);
    }
}

/// A group of notes (indices), ordered most typical first.
struct Group {
    members: Vec<usize>,
    cohesion: f32,
    /// Smallest member index: the last tie-break between groups.
    first: usize,
}

impl Group {
    fn new(vectors: &impl Embedding, mut members: Vec<usize>) -> Self {
        let first = members.iter().copied().min().unwrap_or(0);
        let centre = vectors.centre(&members);
        // With unit vectors, |Σv|² = m + 2 Σ_{i<j} cos(i, j): the average pairwise cosine
        // without visiting every pair.
        let m = members.len() as f32;
        let squared: f32 = centre.iter().map(|(_, w)| w * w).sum();
        let cohesion = if m > 1.0 { ((squared - m) / (m * (m - 1.0))).clamp(0.0, 1.0) } else { 1.0 };
        let closeness: Vec<(usize, f32)> = members.iter().map(|&i| (i, vectors.dot(i, &centre))).collect();
        let mut sorted = closeness;
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        members = sorted.into_iter().map(|(i, _)| i).collect();
        Self { members, cohesion, first }
    }
}

fn check(notes: &[Note], options: &Options) -> Result<(), SuggestError> {
    if !(1..=MAX_CLUSTERS).contains(&options.max_clusters) {
        return Err(SuggestError::InvalidOption("max_clusters must be between 1 and 100"));
    }
    if options.min_cluster_size < 2 {
        return Err(SuggestError::InvalidOption("min_cluster_size must be at least 2"));
    }
    if notes.len() > MAX_NOTES {
        return Err(SuggestError::TooManyNotes { count: notes.len(), max: MAX_NOTES });
    }
    let mut seen = std::collections::HashSet::with_capacity(notes.len());
    for note in notes {
        if note.id.len() > MAX_ID_BYTES {
            return Err(SuggestError::IdTooLong { max: MAX_ID_BYTES });
        }
        if !seen.insert(note.id.as_str()) {
            return Err(SuggestError::DuplicateId(note.id.clone()));
        }
    }
    Ok(())
}

/// The first `max` characters of `text`.
fn truncate(text: &str, max: usize) -> &str {
    text.char_indices().nth(max).map_or(text, |(end, _)| &text[..end])
}
