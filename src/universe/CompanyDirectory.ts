/**
 * Resolves what a user types (`Apple`, `aapl`, `Meta Platforms`) to a ticker,
 * case-insensitively, with a suggestion when nothing matches. The rules are
 * written once, here, as pure functions over keys; `makeDirectory` applies
 * them to names held in memory, the universe database (`Database.ts`) to
 * its indexes, so that neither looks at every name: a name is one lookup, a
 * suggestion a comparison with the few companies whose ticker or name start
 * as the input does.
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import { type Ticker, UnknownCompany } from "../Domain.js"

export interface DirectoryEntry {
  readonly ticker: Ticker
  readonly name: string
}

export interface CompanyDirectory {
  readonly resolve: (input: string) => Either.Either<Ticker, UnknownCompany>
}

const legalSuffixes = new Set([
  "inc",
  "incorporated",
  "corp",
  "corporation",
  "co",
  "company",
  "plc",
  "ltd",
  "limited",
  "llc",
  "lp",
  "sa",
  "ag",
  "nv",
  "se",
  "holdings",
  "group",
  "the",
  "com"
])

/** Lower-case words of a name without punctuation and legal-form suffixes. */
const nameWords = (name: string): ReadonlyArray<string> =>
  name.toLowerCase().split(/[^a-z0-9]+/).filter((word) => word.length > 0 && !legalSuffixes.has(word))

/** A name as it is looked up: its words, lower case, joined by spaces. */
export const nameKey = (name: string): string => nameWords(name).join(" ")

/**
 * The keys a company is found by besides its whole name: every leading run
 * of its words (`meta` and `meta platforms` for "Meta Platforms, Inc."). A
 * key two companies share finds neither.
 */
export const leadingKeys = (name: string): ReadonlyArray<string> => {
  const words = nameWords(name)
  return words.map((_, n) => words.slice(0, n + 1).join(" "))
}

/** The longest input worth comparing with names: longer ones get no suggestion search. */
export const LONGEST_QUERY = 200

/**
 * What a suggestion is looked for among: the companies whose ticker, or
 * whose name's key, starts with the same two characters as the input.
 */
export const candidatePrefix = (query: string): string => query.slice(0, 2)

const levenshtein = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
    previous = current
  }
  return previous[b.length]!
}

/** The closest of `candidates` to `query` (a name key, or the input), if close enough to suggest. */
export const closest = (query: string, candidates: Iterable<DirectoryEntry>): string | undefined => {
  let best: { entry: DirectoryEntry; distance: number } | undefined
  for (const entry of candidates) {
    const words = nameWords(entry.name)
    for (const candidate of [entry.ticker.toLowerCase(), words.join(" "), words[0] ?? ""]) {
      const distance = levenshtein(query, candidate)
      if (best === undefined || distance < best.distance) best = { entry, distance }
    }
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(query.length / 3))
    ? `${best.entry.name} (${best.entry.ticker})`
    : undefined
}

/** How a directory looks names up: by ticker, by whole name, by a leading run of words, and suggestions' candidates. */
export interface DirectoryIndex {
  readonly byTicker: (upperCaseTicker: string) => Ticker | undefined
  readonly byName: (key: string) => Ticker | undefined
  /** The company a leading-words key finds, `ambiguous` when it finds several. */
  readonly byLeadingWords: (key: string) => Ticker | "ambiguous" | undefined
  /** Where a suggestion for `query` (a name key, or the input in lower case) is looked for. */
  readonly candidates: (query: string) => Iterable<DirectoryEntry>
}

/** The rules of resolution over an index: ticker, whole name, leading words, else an unknown company with a suggestion. */
export const resolveWith = (index: DirectoryIndex) => (input: string): Either.Either<Ticker, UnknownCompany> => {
  const trimmed = input.trim()
  const ticker = index.byTicker(trimmed.toUpperCase())
  if (ticker !== undefined) return Either.right(ticker)
  const query = nameKey(trimmed)
  const exact = query.length > 0 ? index.byName(query) : undefined
  if (exact !== undefined) return Either.right(exact)
  const match = query.length > 0 ? index.byLeadingWords(query) : undefined
  if (match !== undefined && match !== "ambiguous") return Either.right(match)
  const searched = query.length > 0 ? query : trimmed.toLowerCase()
  const suggestion = match === "ambiguous" || searched.length === 0 || searched.length > LONGEST_QUERY
    ? undefined
    : closest(searched, index.candidates(searched))
  return Either.left(unknownCompany(suggestion === undefined ? { input } : { input, suggestion }))
}

/**
 * An unknown company is an answer, not a failure: built without a stack
 * trace (whose capture costs more than the lookups) and without validating
 * the two strings it is made of.
 */
const unknownCompany = (fields: ConstructorParameters<typeof UnknownCompany>[0]): UnknownCompany => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const unknown = new UnknownCompany(fields, true)
  Error.stackTraceLimit = limit
  return unknown
}

/** A directory over names held in memory. */
export const makeDirectory = (entries: Iterable<DirectoryEntry>): CompanyDirectory => {
  const byTicker = new Map<string, DirectoryEntry>()
  const byName = new Map<string, DirectoryEntry>()
  const byLeadingWords = new Map<string, DirectoryEntry | "ambiguous">()
  // suggestions' candidates, by the first two characters of a ticker (lower case) or of a name's key
  const byPrefix = new Map<string, Array<DirectoryEntry>>()
  const addCandidate = (prefix: string, entry: DirectoryEntry) => {
    const group = byPrefix.get(prefix)
    if (group === undefined) byPrefix.set(prefix, [entry])
    else if (group.at(-1) !== entry) group.push(entry)
  }
  for (const entry of entries) {
    byTicker.set(entry.ticker.toUpperCase(), entry)
    byName.set(nameKey(entry.name), entry)
    for (const key of leadingKeys(entry.name)) {
      const existing = byLeadingWords.get(key)
      byLeadingWords.set(key, existing === undefined || existing === entry ? entry : "ambiguous")
    }
    addCandidate(candidatePrefix(entry.ticker.toLowerCase()), entry)
    addCandidate(candidatePrefix(nameKey(entry.name)), entry)
  }
  return {
    resolve: resolveWith({
      byTicker: (ticker) => byTicker.get(ticker)?.ticker,
      byName: (key) => byName.get(key)?.ticker,
      byLeadingWords: (key) => {
        const found = byLeadingWords.get(key)
        return found === undefined || found === "ambiguous" ? found : found.ticker
      },
      candidates: (query) => byPrefix.get(candidatePrefix(query)) ?? []
    })
  }
}
