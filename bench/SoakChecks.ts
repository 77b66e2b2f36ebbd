/**
 * What the soak (`soak.ts`) checks after each run, as pure functions of
 * what it observed: the report's lines, the cache file's tickers, the
 * server's counters, the RSS samples. Each returns a `Verdict`: whether the
 * check holds, its figure for the summary line, and, when it fails, one
 * line that says what broke.
 *
 * A guarantee is checked company by company: every company the server
 * injected no fault into (none of its requests is in `GET /faults`) is
 * scored. Totals would hide who was lost.
 */

export interface Verdict {
  readonly check: string
  readonly ok: boolean
  /** The figure for the summary line (`each once`, `cache = scored (4251)`). */
  readonly figure: string
  /** Why it failed; empty when it holds. */
  readonly detail: string
}

const verdict = (check: string, figure: string, problems: ReadonlyArray<string>): Verdict => ({
  check,
  ok: problems.length === 0,
  figure,
  detail: problems.join("; ")
})

/** At most a few examples in a failure line: enough to look one up, short enough to read. */
const some = (items: Iterable<string>): string => {
  const all = [...items]
  return all.length <= 5 ? all.join(", ") : `${all.slice(0, 5).join(", ")}, … (${all.length} in all)`
}

/** What the report's NDJSON said: how often each ticker was reported, which were scored, and its summary line. */
export interface ReportLines {
  readonly reported: ReadonlyMap<string, number>
  readonly scored: ReadonlySet<string>
  readonly summary:
    | { readonly requested: number; readonly scored: number; readonly skipped: number; readonly apiCalls: number }
    | undefined
  /** Lines after the summary line (there must be none: it is the last). */
  readonly afterSummary: number
  /** Lines that were neither an outcome nor the summary, with the first of them. */
  readonly unreadable: number
  readonly firstUnreadable: string | undefined
}

/** Every input company exactly once in the report, and the summary line last, counting the same. */
export const eachCompanyOnce = (inputs: ReadonlyArray<string>, lines: ReportLines): Verdict => {
  const expected = new Set(inputs)
  const missing = inputs.filter((ticker) => !lines.reported.has(ticker))
  const twice = [...lines.reported].filter(([, times]) => times > 1).map(([ticker, times]) => `${ticker} ×${times}`)
  const unasked = [...lines.reported.keys()].filter((ticker) => !expected.has(ticker))
  const reportedLines = [...lines.reported.values()].reduce((sum, times) => sum + times, 0)
  const summary = lines.summary
  const problems = [
    ...(missing.length > 0 ? [`${missing.length} never reported (${some(missing)})`] : []),
    ...(twice.length > 0 ? [`${twice.length} reported more than once (${some(twice)})`] : []),
    ...(unasked.length > 0 ? [`${unasked.length} reported but not asked for (${some(unasked)})`] : []),
    ...(lines.unreadable > 0 ? [`${lines.unreadable} lines neither an outcome nor the summary (first: ${lines.firstUnreadable})`] : []),
    ...(summary === undefined
      ? ["no summary line"]
      : [
        ...(lines.afterSummary > 0 ? [`${lines.afterSummary} lines after the summary line`] : []),
        ...(summary.requested !== inputs.length ? [`summary.requested ${summary.requested}, asked ${inputs.length}`] : []),
        ...(summary.scored !== lines.scored.size || summary.scored + summary.skipped !== reportedLines
          ? [`summary says ${summary.scored} scored, ${summary.skipped} skipped; the lines ${lines.scored.size} scored of ${reportedLines}`]
          : [])
      ])
  ]
  return verdict("each company once", problems.length === 0 ? "each once" : "NOT each once", problems)
}

/** The persistent cache holds exactly the tickers the report scored. */
export const cacheEqualsScored = (scored: ReadonlySet<string>, cached: ReadonlyArray<string>): Verdict => {
  const inCache = new Set(cached)
  const notCached = [...scored].filter((ticker) => !inCache.has(ticker))
  const notScored = [...inCache].filter((ticker) => !scored.has(ticker))
  const problems = [
    ...(notCached.length > 0 ? [`${notCached.length} scored but not in the cache (${some(notCached)})`] : []),
    ...(notScored.length > 0 ? [`${notScored.length} in the cache but not scored (${some(notScored)})`] : []),
    ...(cached.length !== inCache.size ? [`${cached.length - inCache.size} tickers cached twice`] : [])
  ]
  return verdict(
    "cache = scored",
    problems.length === 0 ? `cache = scored (${scored.size})` : `cache (${cached.length}) != scored (${scored.size})`,
    problems
  )
}

/** The provider never saw more requests in flight than the client's permits. */
export const concurrencyWithinPermits = (maxConcurrent: number, permits: number): Verdict =>
  verdict(
    "maxConcurrent <= permits",
    String(maxConcurrent),
    maxConcurrent <= permits ? [] : [`the server saw ${maxConcurrent} requests in flight at once, the client has ${permits} permits`]
  )

/** RSS over the run: the mean of the last quarter of the samples within `tolerance` of the first quarter's. */
export const rssFlat = (samplesMb: ReadonlyArray<number>, tolerance: number): Verdict & {
  readonly firstMb: number
  readonly lastMb: number
  readonly change: number
} => {
  const quarter = Math.floor(samplesMb.length / 4)
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length)
  const firstMb = mean(samplesMb.slice(0, quarter))
  const lastMb = mean(samplesMb.slice(samplesMb.length - quarter))
  const change = firstMb > 0 ? (lastMb - firstMb) / firstMb : 0
  const figure = `first quarter ${firstMb.toFixed(0)} MB, last ${lastMb.toFixed(0)} MB, ${percent(change, true)}`
  const problems = quarter < 2
    ? [`only ${samplesMb.length} samples over the run, too few to compare quarters`]
    : Math.abs(change) > tolerance
    ? [`${figure}: more than ${percent(tolerance)} apart`]
    : []
  return { ...verdict("RSS flat", figure, problems), firstMb, lastMb, change }
}

/**
 * The live heap is flat: what the main thread still holds after each full
 * collection, the last quarter of the samples against the first. RSS is no
 * measure of it: V8 grows its heap lazily, and RSS with it.
 */
export const liveHeapFlat = (samplesMb: ReadonlyArray<number>, tolerance: number): Verdict => {
  const quarter = Math.floor(samplesMb.length / 4)
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length)
  const firstMb = mean(samplesMb.slice(0, quarter))
  const lastMb = mean(samplesMb.slice(samplesMb.length - quarter))
  const change = firstMb > 0 ? (lastMb - firstMb) / firstMb : 0
  const figure = `live heap after a full collection: first quarter ${firstMb.toFixed(1)} MB, last ${lastMb.toFixed(1)} MB, ${
    percent(change, true)
  } (${samplesMb.length} collections)`
  const problems = quarter < 2
    ? [`only ${samplesMb.length} full collections over the run, too few to compare quarters`]
    : change > tolerance
    ? [`${figure}: grew more than ${percent(tolerance)}`]
    : []
  return verdict("live heap flat", figure, problems)
}

/** The child ended by itself with a report's exit code: 0 (all scored) or 3 (some skipped). */
export const exitedWithReport = (code: number | null, signal: string | null, stderrTail: ReadonlyArray<string>): Verdict => {
  const ok = code === 0 || code === 3
  return verdict(
    "exit code",
    `exit ${code ?? signal}`,
    ok ? [] : [`exit ${code ?? signal} (0 or 3 expected); its stderr ended with: ${stderrTail.join(" | ") || "(nothing)"}`]
  )
}

export const percent = (share: number, signed = false): string =>
  `${signed && share >= 0 ? "+" : ""}${(share * 100).toFixed(1)} %`

/**
 * Every company whose requests met no fault (`faulted`: the tickers the
 * server's `GET /faults` names) is scored: a fault stays with its company.
 */
export const faultFreeScored = (
  tickers: ReadonlyArray<string>,
  faulted: ReadonlySet<string>,
  scored: ReadonlySet<string>
): Verdict => {
  const faultFree = tickers.filter((ticker) => !faulted.has(ticker))
  const lost = faultFree.filter((ticker) => !scored.has(ticker))
  return verdict(
    "fault-free scored",
    `fault-free lost ${lost.length} of ${faultFree.length}`,
    lost.length === 0 ? [] : [`${lost.length} companies met no fault and were not scored: ${some(lost)}`]
  )
}
