//! Text analysis: from the text of a note to the terms it is compared on.
//!
//! Steps, in order, for each note:
//!
//! 1. **Tokenise**: lowercase; a word is a run of letters and digits, which may contain
//!    apostrophes (`'`, `’`, `ʼ`) and hyphens between two letters or digits.
//! 2. **Elisions and clitics**: « l'usager » → « usager », « qu'il » → « il »; English
//!    « users' », « don't » lose their clitic part. Hyphenated words are split
//!    (« domicile-travail » → « domicile », « travail ») unless the first part is a prefix of
//!    one or two letters (« co-voiturage » → « covoiturage », « e-mail » → « email »).
//! 3. **Language** of the note: its French and English function words are counted; the
//!    language with more wins, a tie (often: no function word at all) takes the board's
//!    language, the one most notes are written in. A hint in the options overrides this.
//! 4. **Stop words**: the note language's function words and workshop filler words are
//!    dropped (matched without accents, see `lists/`), as are numbers and words of one
//!    letter. « car » and « été » are French function words (« car » = because), except after
//!    a determiner, where they are nouns (« le car scolaire », « l'été »).
//! 5. **Spellings from the board**: a word written without its accents (« numerique ») is
//!    read as its accented spelling when the board has one (« numérique »): a missing accent
//!    is a common typo on post-its, a wrong one is rare, and the Snowball French stemmer
//!    depends on accents (« mobilité » loses « -ité », « mobilite » does not). A plural in
//!    « s » or « x » is read as its singular when the board has the singular too.
//! 6. **Stem** with the note language's Snowball stemmer, then strip accents: the result is
//!    the term. « Mobilités » and « mobilité » both give « mobil ».
//!
//! Each term keeps the spellings it was seen under, so that titles show a real word with its
//! accents (the most frequent spelling), not a stem.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::LanguageHint;

/// Words longer than this are not words (links, pasted identifiers): ignored.
const MAX_WORD_CHARS: usize = 40;

/// French elided forms written before an apostrophe: « l'usager », « jusqu'au ».
const ELISIONS: &[&str] =
    &["c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"];

/// English clitics written after an apostrophe: « user's », « don't », « we're ».
const CLITICS: &[&str] = &["s", "t", "re", "ve", "ll", "d", "m"];

/// Words after which « car » and « été » are nouns: determiners and the prepositions that a
/// conjunction or a participle cannot follow (« le car », « arrêts de car », « en car »,
/// « l'été », « horaires d'été »). Matched without accents; elisions count (« l' » as « l »).
const DETERMINERS: &[&str] = &[
    "le", "l", "un", "du", "au", "ce", "cet", "mon", "ton", "son", "notre", "votre", "leur", "chaque",
    "quel", "premier", "dernier", "prochain", "de", "d", "en", "par",
];

/// French words that are function words except after a determiner.
const NOUN_AFTER_DETERMINER: &[&str] = &["car", "ete"];

/// The language a note is analysed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    French,
    English,
}

/// The word lists, parsed once per call (a few hundred words: microseconds).
pub(crate) struct Lexicon {
    fr_function: HashSet<String>,
    fr_filler: HashSet<String>,
    en_function: HashSet<String>,
    en_filler: HashSet<String>,
}

impl Lexicon {
    pub(crate) fn new() -> Self {
        Self {
            fr_function: parse_list(include_str!("lists/stop_fr.txt")),
            fr_filler: parse_list(include_str!("lists/filler_fr.txt")),
            en_function: parse_list(include_str!("lists/stop_en.txt")),
            en_filler: parse_list(include_str!("lists/filler_en.txt")),
        }
    }

    fn is_stop(&self, lang: Lang, key: &str) -> bool {
        match lang {
            Lang::French => self.fr_function.contains(key) || self.fr_filler.contains(key),
            Lang::English => self.en_function.contains(key) || self.en_filler.contains(key),
        }
    }
}

/// Whitespace-separated words, `#` starts a comment line; stored without accents.
fn parse_list(text: &str) -> HashSet<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|w| strip_accents(&w.to_lowercase()))
        .collect()
}

/// Removes accents and other combining marks: NFD, then drop the marks. « Mobilité » →
/// « Mobilite », « œ » and « æ » are kept (they are letters, not marked ones).
pub(crate) fn strip_accents(s: &str) -> String {
    s.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// One word of a note, after tokenising and elision, before stop words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// Lowercase, with accents, as written (NFC).
    pub(crate) surface: String,
    /// `surface` without accents: what stop words and spellings are matched on.
    pub(crate) key: String,
    /// An elided article or pronoun (« l' », « qu' »): never content, kept for context.
    pub(crate) elided: bool,
}

/// A note's words, in order, with the clues to its language.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub(crate) words: Vec<Word>,
    /// Elisions seen (« l' », « qu' »): a strong sign of French.
    pub(crate) elisions: usize,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

/// Splits a note's text into words (step 1 and 2 of the module documentation).
pub(crate) fn tokenize(text: &str) -> Tokens {
    // NFC first, so that a letter and its accent typed as two code points stay one letter.
    let text: String = text.nfc().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Tokens::default();
    let mut start = None;
    for i in 0..=chars.len() {
        let c = chars.get(i).copied();
        let inside = match c {
            Some(c) if c.is_alphanumeric() => true,
            // A joiner continues the word only between two letters or digits.
            Some(c) if is_apostrophe(c) || is_hyphen(c) => {
                start.is_some() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
            }
            _ => false,
        };
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                split_word(&chars[s..i], &mut tokens);
                start = None;
            }
            _ => {}
        }
    }
    tokens
}

/// Elisions, clitics and hyphens of one raw word.
fn split_word(raw: &[char], tokens: &mut Tokens) {
    let segments: Vec<String> =
        raw.split(|c| is_apostrophe(*c)).map(|s| s.iter().collect::<String>()).collect();
    if segments.len() > 1 {
        // « aujourd'hui » is one word (and a stop word): keep it whole.
        let whole = segments.join("'");
        if whole == "aujourd'hui" {
            push_word(&whole, tokens);
            return;
        }
    }
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        let key = strip_accents(segment);
        if i < last && ELISIONS.contains(&key.as_str()) {
            tokens.elisions += 1;
            // Kept for the determiner rule (« l'été »), never as content.
            tokens.words.push(Word { surface: segment.clone(), key, elided: true });
            continue;
        }
        if i == last && i > 0 && CLITICS.contains(&key.as_str()) {
            continue;
        }
        let parts: Vec<&str> = segment.split(is_hyphen).collect();
        if parts.len() > 1 && parts[0].chars().count() <= 2 {
            push_word(&parts.concat(), tokens);
        } else {
            for part in parts {
                push_word(part, tokens);
            }
        }
    }
}

fn push_word(surface: &str, tokens: &mut Tokens) {
    if surface.is_empty() {
        return;
    }
    tokens.words.push(Word { surface: surface.to_owned(), key: strip_accents(surface), elided: false });
}

/// The language a note's function words point to, if they point anywhere.
pub(crate) fn detect(tokens: &Tokens, lexicon: &Lexicon) -> Option<Lang> {
    let mut french = tokens.elisions;
    let mut english = 0;
    for word in &tokens.words {
        french += usize::from(lexicon.fr_function.contains(&word.key));
        english += usize::from(lexicon.en_function.contains(&word.key));
    }
    match french.cmp(&english) {
        std::cmp::Ordering::Greater => Some(Lang::French),
        std::cmp::Ordering::Less => Some(Lang::English),
        std::cmp::Ordering::Equal => None,
    }
}

/// The languages of every note: forced by the hint, otherwise detected per note, ties taking
/// the board's majority language (French on a tie: the product is French first).
pub(crate) fn languages(all: &[Tokens], hint: LanguageHint, lexicon: &Lexicon) -> Vec<Lang> {
    match hint {
        LanguageHint::Fr => return vec![Lang::French; all.len()],
        LanguageHint::En => return vec![Lang::English; all.len()],
        LanguageHint::Auto => {}
    }
    let detected: Vec<Option<Lang>> = all.iter().map(|t| detect(t, lexicon)).collect();
    let english = detected.iter().filter(|l| **l == Some(Lang::English)).count();
    let french = detected.iter().filter(|l| **l == Some(Lang::French)).count();
    let board = if english > french { Lang::English } else { Lang::French };
    detected.into_iter().map(|l| l.unwrap_or(board)).collect()
}

/// The content words of a note (step 4): stop words, numbers and one-letter words removed.
pub(crate) fn content_words(tokens: &Tokens, lang: Lang, lexicon: &Lexicon) -> Vec<Word> {
    let mut out = Vec::new();
    let mut previous: Option<&str> = None;
    for word in &tokens.words {
        let key = word.key.as_str();
        let noun_here = lang == Lang::French
            && NOUN_AFTER_DETERMINER.contains(&key)
            && previous.is_some_and(|p| DETERMINERS.contains(&p));
        previous = Some(key);
        let letters = key.chars().count();
        if word.elided || !(2..=MAX_WORD_CHARS).contains(&letters) || key.chars().all(char::is_numeric) {
            continue;
        }
        if lexicon.is_stop(lang, key) && !noun_here {
            continue;
        }
        out.push(word.clone());
    }
    out
}

/// Board-wide spellings: for each accent-free key, the spelling to read it as (step 5).
pub(crate) struct Spellings {
    canonical: HashMap<String, String>,
}

impl Spellings {
    /// `words` is every content word of the board. For each key the spelling chosen has
    /// accents if any spelling has, then is the most frequent, then the smallest. A key ending
    /// in « s » or « x » is read as the key without it when the board has that one too: the
    /// Snowball stemmers leave some plurals apart from their singular (French « usagers » /
    /// « usager », « vélos » / « vélo »; a word and its plural are one word on a board).
    pub(crate) fn new<'a>(words: impl Iterator<Item = &'a Word>) -> Self {
        let mut counts: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
        for w in words {
            *counts.entry(&w.key).or_default().entry(&w.surface).or_default() += 1;
        }
        let mut canonical: HashMap<String, String> = counts
            .iter()
            .filter_map(|(key, spellings)| {
                let best = spellings.iter().max_by(|(a, na), (b, nb)| {
                    let accented = |s: &str| s != *key;
                    accented(a).cmp(&accented(b)).then(na.cmp(nb)).then(b.cmp(a))
                })?;
                Some(((*key).to_owned(), (*best.0).to_owned()))
            })
            .collect();
        let plurals: Vec<(String, String)> = canonical
            .keys()
            .filter_map(|key| {
                let singular = key.strip_suffix('s').or_else(|| key.strip_suffix('x'))?;
                let spelling = canonical.get(singular)?;
                Some((key.clone(), spelling.clone()))
            })
            .collect();
        canonical.extend(plurals);
        Self { canonical }
    }

    /// The spelling a word is read as.
    pub(crate) fn read<'a>(&'a self, word: &'a Word) -> &'a str {
        self.canonical.get(&word.key).map_or(word.surface.as_str(), String::as_str)
    }
}

/// The Snowball stemmers, with a cache: a board repeats its words a lot.
pub(crate) struct Stemmers {
    french: Stemmer,
    english: Stemmer,
    cache: HashMap<(bool, String), String>,
}

impl Stemmers {
    pub(crate) fn new() -> Self {
        Self {
            french: Stemmer::create(Algorithm::French),
            english: Stemmer::create(Algorithm::English),
            cache: HashMap::new(),
        }
    }

    /// The term of a spelling (step 6): stemmed in `lang`, accents stripped.
    pub(crate) fn term(&mut self, lang: Lang, spelling: &str) -> String {
        let key = (lang == Lang::French, spelling.to_owned());
        if let Some(term) = self.cache.get(&key) {
            return term.clone();
        }
        let stemmer = match lang {
            Lang::French => &self.french,
            Lang::English => &self.english,
        };
        let term = strip_accents(&stemmer.stem(spelling));
        self.cache.insert(key, term.clone());
        term
    }
}
