//! French word vectors: notes compared by what their words mean, not only by the words they
//! share (« dentiste », « kiné » and « médecin » are close; « bus » and « covoiturage » too).
//!
//! The table is `server/data/word-vectors-fr.bin`, built by `scripts/build-word-vectors.py` from
//! the word vectors of spaCy's `fr_core_news_md` 3.8.0 (fastText, CC0: `server/data/NOTICE`):
//! the 100,000 most frequent lowercase French words, each pointing to one of 20,000 vectors of
//! 300 dimensions quantised to 8 bits (7.1 MB, compiled into the binary, checked by its SHA-256
//! in the tests). It is parsed once, on the first suggestion (about 10 ms), and then shared: a
//! constant, like the stop lists, so the module stays free of IO.
//!
//! A note's vector is the sum of its content words' unit vectors, each weighted by its TF-IDF
//! on the board, scaled to length 1; then the board's common direction (the first principal
//! component of its note vectors, the « smooth inverse frequency » step of Arora et al., 2017)
//! is removed, and the vector scaled to length 1 again: without that step every pair of notes
//! is alike through what all French sentences share. Notes are compared by the cosine of
//! these vectors. docs/clustering.md gives the measurements.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::cluster::Condensed;
use super::corpus::{Corpus, Vector};
use super::text::Lang;
use super::LanguageHint;

/// The table, as built by `scripts/build-word-vectors.py`.
pub(crate) static TABLE: &[u8] = include_bytes!("../../data/word-vectors-fr.bin");

/// The SHA-256 the script printed when it built [`TABLE`].
#[cfg(test)]
pub(crate) const TABLE_SHA256: &str = "4e4b7dc9915955b434f4f29a2bdce68b38139ac94c915cd5e20be29ca790bafa";

pub(crate) struct WordVectors {
    dims: usize,
    /// `rows × dims` int8 components, row-major (bytes reinterpreted as `i8`).
    rows: &'static [u8],
    /// 1 / length of each row.
    inverse_norm: Vec<f32>,
    /// Lowercase word → row.
    index: HashMap<&'static str, u16>,
}

/// The French table, or `None` if it cannot be read (then suggestions use shared words only;
/// the tests make sure it can).
pub(crate) fn french() -> Option<&'static WordVectors> {
    static PARSED: OnceLock<Option<WordVectors>> = OnceLock::new();
    PARSED.get_or_init(|| WordVectors::parse(TABLE)).as_ref()
}

impl WordVectors {
    fn parse(bytes: &'static [u8]) -> Option<Self> {
        let u32_at = |at: usize| -> Option<usize> {
            Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
        };
        if bytes.get(..4)? != b"ATWV" || u32_at(4)? != 1 {
            return None;
        }
        let (dims, count, words) = (u32_at(8)?, u32_at(12)?, u32_at(16)?);
        let rows_end = 20usize.checked_add(count.checked_mul(dims)?)?;
        let rows = bytes.get(20..rows_end)?;
        let ids_end = rows_end.checked_add(words.checked_mul(2)?)?;
        let ids = bytes.get(rows_end..ids_end)?;
        let names = std::str::from_utf8(bytes.get(ids_end..)?).ok()?;
        let mut index = HashMap::with_capacity(words);
        for (name, id) in names.split_terminator('\n').zip(ids.chunks_exact(2)) {
            let row = u16::from_le_bytes([id[0], id[1]]);
            if usize::from(row) >= count {
                return None;
            }
            index.entry(name).or_insert(row);
        }
        if index.len() != words {
            return None;
        }
        let inverse_norm = rows
            .chunks_exact(dims)
            .map(|row| {
                let squared: f32 = row.iter().map(|&b| f32::from(b as i8).powi(2)).sum();
                if squared > 0.0 {
                    squared.sqrt().recip()
                } else {
                    0.0
                }
            })
            .collect();
        Some(Self { dims, rows, inverse_norm, index })
    }

    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    pub(crate) fn contains(&self, word: &str) -> bool {
        self.index.contains_key(word)
    }

    /// Adds `weight` × the unit vector of `word` to `out`; false if the word is unknown.
    fn add(&self, word: &str, weight: f32, out: &mut [f32]) -> bool {
        let Some(&row) = self.index.get(word) else { return false };
        let row = usize::from(row);
        let scale = weight * self.inverse_norm[row];
        for (o, &b) in out.iter_mut().zip(&self.rows[row * self.dims..(row + 1) * self.dims]) {
            *o += scale * f32::from(b as i8);
        }
        true
    }
}

/// The notes of a board as unit vectors of meaning (empty for a note with no known word).
pub(crate) struct Meanings {
    table: &'static WordVectors,
    /// Dense, `dims` each, or empty.
    dense: Vec<Vec<f32>>,
    /// Per note: its words found in the table, as read (see `text::Spellings`).
    known: Vec<Vec<String>>,
    /// Per note: the weights of its meaning and of its shared words (see [`Meanings::with_words`]).
    scale: Vec<(f32, f32)>,
    /// Per note: its shared-word TF-IDF vector (`corpus`), once [`Meanings::with_words`] is called.
    words: Vec<Vector>,
    /// Both parts as one unit sparse vector: dimensions `0..dims` the meaning, `dims + term` the
    /// shared words; for the small-group step and the cohesion.
    pub(crate) sparse: Vec<Vector>,
}

/// How a board's notes are compared: `None` when word vectors do not apply (an English board,
/// or `language: "en"`), and shared words are used instead. Reads the words `corpus` found.
pub(crate) fn meanings(corpus: &Corpus, hint: LanguageHint, table: &'static WordVectors) -> Option<Meanings> {
    let french = corpus.langs.iter().filter(|l| **l == Lang::French).count();
    if hint == LanguageHint::En || (french as f32) < FRENCH_SHARE * corpus.langs.len() as f32 {
        return None;
    }

    // Each note's known words with their counts; document frequency over the board.
    let mut df: HashMap<&str, u32> = HashMap::new();
    let counts: Vec<Vec<(&str, u32)>> = corpus
        .spelled
        .iter()
        .map(|note| {
            let mut c: Vec<(&str, u32)> = Vec::new();
            for spelling in note.iter().map(String::as_str).filter(|s| table.contains(s)) {
                match c.iter_mut().find(|(s, _)| *s == spelling) {
                    Some((_, n)) => *n += 1,
                    None => c.push((spelling, 1)),
                }
            }
            for (s, _) in &c {
                *df.entry(s).or_default() += 1;
            }
            c
        })
        .collect();

    let n = corpus.spelled.len() as f32;
    let mut dense: Vec<Vec<f32>> = counts
        .iter()
        .map(|note| {
            if note.is_empty() {
                return Vec::new();
            }
            let mut v = vec![0.0; table.dims()];
            for &(word, tf) in note {
                let idf = ((1.0 + n) / (1.0 + df[word] as f32)).ln() + 1.0;
                table.add(word, (1.0 + (tf as f32).ln()) * idf, &mut v);
            }
            v
        })
        .collect();
    normalise_all(&mut dense);
    remove_common_direction(&mut dense, table.dims());
    normalise_all(&mut dense);
    let scale = dense.iter().map(|v| (if v.is_empty() { 0.0 } else { 1.0 }, 0.0)).collect();
    let words = vec![Vec::new(); dense.len()];
    let known = counts.iter().map(|note| note.iter().map(|(w, _)| (*w).to_owned()).collect()).collect();
    let mut meanings = Meanings { table, dense, known, scale, words, sparse: Vec::new() };
    meanings.rebuild_sparse();
    Some(meanings)
}

/// Word vectors are used when at least this share of the notes are French: on a board in two
/// languages, words would not match across them (« vélo », « bike ») and shared words keep
/// each language apart.
const FRENCH_SHARE: f32 = 0.8;

impl Meanings {
    /// Adds the shared words to the meaning: each note's vector becomes its meaning and its
    /// TF-IDF vector of shared words weighted `weight`, scaled to length 1, so that the cosine of
    /// two notes is (meaning cosine + `weight` × shared-word cosine) / (1 + `weight`) when both
    /// have both parts. A distinctive word two notes share (« bus », « cantine ») is strong
    /// evidence that a sum of word vectors dilutes.
    pub(crate) fn with_words(mut self, tfidf: &[Vector], weight: f32) -> Self {
        self.words = tfidf.to_vec();
        self.scale = self
            .dense
            .iter()
            .zip(&self.words)
            .map(|(v, t)| {
                let (a, b) = (if v.is_empty() { 0.0 } else { 1.0 }, if t.is_empty() { 0.0 } else { weight });
                let norm = (a + b).sqrt();
                if norm > 0.0 {
                    (a.sqrt() / norm, b.sqrt() / norm)
                } else {
                    (0.0, 0.0)
                }
            })
            .collect();
        self.rebuild_sparse();
        self
    }

    fn rebuild_sparse(&mut self) {
        let dims = self.table.dims() as u32;
        self.sparse = (0..self.dense.len())
            .map(|i| {
                let (a, b) = self.scale[i];
                let mut v: Vector = Vec::new();
                if a > 0.0 {
                    v.extend(self.dense[i].iter().enumerate().map(|(d, x)| (d as u32, a * x)));
                }
                if b > 0.0 {
                    v.extend(self.words[i].iter().map(|(t, w)| (dims + t, b * w)));
                }
                v
            })
            .collect();
    }

    /// Per note: whether it has a vector.
    pub(crate) fn present(&self) -> Vec<bool> {
        self.sparse.iter().map(|v| !v.is_empty()).collect()
    }

    /// The word of the group's notes closest in meaning to the group as a whole: a title for a
    /// group whose notes share no word. `None` if they have no known word.
    pub(crate) fn central_word(&self, members: &[usize]) -> Option<&str> {
        let dims = self.table.dims();
        let mut centre = vec![0.0f32; dims];
        for &i in members {
            if !self.dense[i].is_empty() {
                centre.iter_mut().zip(&self.dense[i]).for_each(|(c, x)| *c += x);
            }
        }
        let mut best: Option<(&str, f32)> = None;
        for word in members.iter().flat_map(|&i| &self.known[i]) {
            let mut v = vec![0.0f32; dims];
            self.table.add(word, 1.0, &mut v);
            let score: f32 = v.iter().zip(&centre).map(|(a, b)| a * b).sum();
            if best.is_none_or(|(w, b)| score > b || (score == b && word.as_str() < w)) {
                best = Some((word, score));
            }
        }
        best.map(|(w, _)| w)
    }

    /// The cosine similarity of every pair of notes (0 with a note that has no vector).
    /// `shared` holds the shared-word cosines (`Corpus::similarities`), used when
    /// [`Meanings::with_words`] was.
    pub(crate) fn similarities(&self, mut shared: Condensed) -> Condensed {
        let n = self.dense.len();
        for i in 0..n {
            for j in i + 1..n {
                let (ai, bi) = self.scale[i];
                let (aj, bj) = self.scale[j];
                let meaning = if ai > 0.0 && aj > 0.0 { dot(&self.dense[i], &self.dense[j]) } else { 0.0 };
                let words = shared.get(i, j);
                shared.set(i, j, ai * aj * meaning + bi * bj * words);
            }
        }
        shared
    }
}

/// The dot product of two dense vectors, in eight lanes the compiler can keep in SIMD
/// registers (a plain sum of products must be added in order, one at a time).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn normalise_all(vectors: &mut [Vec<f32>]) {
    for v in vectors.iter_mut() {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            v.clear();
        }
    }
}

/// Removes from every vector its projection on the first principal component (uncentred) of
/// the set, found by power iteration from a fixed start: deterministic.
fn remove_common_direction(vectors: &mut [Vec<f32>], dims: usize) {
    let present: Vec<usize> = (0..vectors.len()).filter(|&i| !vectors[i].is_empty()).collect();
    if present.len() < 2 {
        return;
    }
    // Start from the mean direction: the first component of vectors that all lean one way.
    let mut u = vec![0.0f32; dims];
    for &i in &present {
        u.iter_mut().zip(&vectors[i]).for_each(|(a, b)| *a += b);
    }
    for _ in 0..100 {
        let norm = u.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            return;
        }
        u.iter_mut().for_each(|x| *x /= norm);
        let mut next = vec![0.0f32; dims];
        for &i in &present {
            let p: f32 = vectors[i].iter().zip(&u).map(|(a, b)| a * b).sum();
            next.iter_mut().zip(&vectors[i]).for_each(|(a, b)| *a += p * b);
        }
        let change: f32 = {
            let norm = next.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
            next.iter().zip(&u).map(|(a, b)| (a / norm - b).powi(2)).sum()
        };
        u = next;
        if change < 1e-10 {
            break;
        }
    }
    let norm = u.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        return;
    }
    u.iter_mut().for_each(|x| *x /= norm);
    for &i in &present {
        let p: f32 = vectors[i].iter().zip(&u).map(|(a, b)| a * b).sum();
        vectors[i].iter_mut().zip(&u).for_each(|(a, b)| *a -= p * b);
    }
}
