// Démarreur bienveillant: is a text phrased as a question? Only questions are admitted in the
// session (no decisions), so the composer refuses anything else and notes that are not questions
// are flagged to their author. A text is a question when it ends with a question mark (after
// closing quotes or brackets), or starts with an interrogative word or phrase (French or
// English), or with a French inverted verb ("Peut-on…", "Faut-il…", "Est-elle…").

const FRENCH = [
  'est-ce', 'qu\'est-ce', 'qu\'en', 'comment', 'pourquoi', 'quel', 'quelle', 'quels', 'quelles',
  'lequel', 'laquelle', 'lesquels', 'lesquelles', 'qui', 'quoi', 'où', 'quand', 'combien',
  'à quoi', 'à qui', 'à quel', 'à quelle', 'à quels', 'à quelles', 'à partir de quand',
  'de quoi', 'de qui', 'de quel', 'de quelle', 'de quels', 'de quelles', 'en quoi', 'par quoi',
  'par qui', 'pour quoi', 'pour qui', 'dans quel', 'dans quelle', 'dans quels', 'dans quelles',
  'jusqu\'où', 'jusqu\'à quand', 'd\'où', 'avec qui', 'avec quoi', 'sur quoi', 'sur quel', 'sur quelle'
]
const ENGLISH = [
  'how', 'why', 'what', 'which', 'who', 'whom', 'whose', 'when', 'where', 'is', 'are', 'was',
  'were', 'do', 'does', 'did', 'can', 'could', 'should', 'would', 'will', 'shall', 'may', 'might',
  'isn\'t', 'aren\'t', 'don\'t', 'doesn\'t', 'can\'t', 'won\'t', 'shouldn\'t'
]
const STARTS = [...FRENCH, ...ENGLISH].sort((a, b) => b.length - a.length)
/** A French inverted verb: "peut-on", "faut-il", "va-t-elle", "sommes-nous". */
const INVERSION = /^\p{L}+(?:-t)?-(?:il|elle|on|ils|elles|nous|vous|je|tu|ce)(?=$|[\s,;:])/u

/** The text lower-cased, apostrophes straightened, without leading quotes, dashes or bullets. */
function normalise (text: string): string {
  return text.trim().toLowerCase()
    .replace(/[’ʼ`]/g, '\'')
    .replace(/^[\s«“"'(\-–—•*·]+/u, '')
}

/** Whether `text` is phrased as a question. */
export function isQuestion (text: string): boolean {
  const trimmed = text.trim()
  if (trimmed === '') return false
  if (/[?？¿][\s»”"')\]]*$/u.test(trimmed)) return true
  const s = normalise(trimmed)
  if (INVERSION.test(s)) return true
  for (const word of STARTS) {
    if (!s.startsWith(word)) continue
    // A whole word ("qu'" and the like end with an apostrophe and run on).
    const next = s.charAt(word.length)
    if (word.endsWith('\'') || next === '' || /[\s,;:'-]/u.test(next)) return true
  }
  return false
}

/** `text` with a question mark (French typography puts a space before it). */
export function withQuestionMark (text: string, language: 'fr' | 'en'): string {
  const t = text.trim().replace(/[.!…;:,\s]+$/u, '')
  return language === 'fr' ? `${t} ?` : `${t}?`
}
