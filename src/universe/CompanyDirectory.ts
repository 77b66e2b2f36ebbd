/**
 * Resolves what a user types (`Apple`, `aapl`, `Meta Platforms`) to a ticker,
 * case-insensitively, with a suggestion when nothing matches. Pure: every
 * fundamentals layer builds one over the names it holds.
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

export const makeDirectory = (entries: Iterable<DirectoryEntry>): CompanyDirectory => {
  const byTicker = new Map<string, DirectoryEntry>()
  // key: the name's words joined; also every leading run of words ("meta" for "Meta Platforms")
  const byName = new Map<string, DirectoryEntry | "ambiguous">()
  const exactNames = new Map<string, DirectoryEntry>()
  for (const entry of entries) {
    byTicker.set(entry.ticker.toLowerCase(), entry)
    const words = nameWords(entry.name)
    exactNames.set(words.join(" "), entry)
    for (let n = 1; n <= words.length; n++) {
      const key = words.slice(0, n).join(" ")
      const existing = byName.get(key)
      byName.set(key, existing === undefined || existing === entry ? entry : "ambiguous")
    }
  }

  const suggest = (query: string): string | undefined => {
    let best: { entry: DirectoryEntry; distance: number } | undefined
    for (const entry of byTicker.values()) {
      const candidates = [entry.ticker.toLowerCase(), nameWords(entry.name).join(" "), nameWords(entry.name)[0] ?? ""]
      for (const candidate of candidates) {
        const distance = levenshtein(query, candidate)
        if (best === undefined || distance < best.distance) best = { entry, distance }
      }
    }
    return best !== undefined && best.distance <= Math.max(2, Math.floor(query.length / 3))
      ? `${best.entry.name} (${best.entry.ticker})`
      : undefined
  }

  const resolve = (input: string): Either.Either<Ticker, UnknownCompany> => {
    const trimmed = input.trim()
    const ticker = byTicker.get(trimmed.toLowerCase())
    if (ticker !== undefined) return Either.right(ticker.ticker)
    const query = nameWords(trimmed).join(" ")
    const exact = exactNames.get(query)
    if (exact !== undefined) return Either.right(exact.ticker)
    const match = query.length > 0 ? byName.get(query) : undefined
    if (match !== undefined && match !== "ambiguous") return Either.right(match.ticker)
    const suggestion = match === "ambiguous" ? undefined : suggest(query.length > 0 ? query : trimmed.toLowerCase())
    return Either.left(
      new UnknownCompany(suggestion === undefined ? { input } : { input, suggestion })
    )
  }

  return { resolve }
}
