/**
 * The synthetic universe of the scale rows: `n` simple, valid company
 * records as plain fields (the Effect side decodes them into
 * `CompanyRecord`s), and the zero-latency sources the Promise peer reads
 * them through. No Effect here, so that the Promise side's process loads none.
 */

/** One sector for every company: any valid sector will do, and one keeps the data trivial. */
export const SECTOR = "Industrials" as const

/** The fields of a `CompanyRecord`, unbranded. */
export interface RecordFields {
  readonly ticker: string
  readonly name: string
  readonly sector: typeof SECTOR
  readonly marketCapUsd: number
  readonly revenueUsdM: number
  readonly scope1Tco2e: number
  readonly scope2Tco2e: number
  readonly uncertaintyPct: number
  readonly reportingYear: number
  readonly governanceScore: number
  readonly governanceDeductions: string
}

/** `C000001`, `C000002`, ...: matches the `Ticker` pattern up to 9,999,999 companies. */
export const tickerOf = (index: number): string => `C${String(index + 1).padStart(6, "0")}`

export const syntheticRecords = (n: number): Array<RecordFields> =>
  Array.from({ length: n }, (_, index) => ({
    ticker: tickerOf(index),
    name: `Company ${index + 1}`,
    sector: SECTOR,
    marketCapUsd: 1e9 + index,
    revenueUsdM: 100 + (index % 1000),
    scope1Tco2e: 1000 + (index % 500),
    scope2Tco2e: 500,
    uncertaintyPct: 10,
    reportingYear: 2024,
    governanceScore: 5 + (index % 5),
    governanceDeductions: ""
  }))

/** The three sources' payloads, built afresh on every call as a provider's answer would be. */
const fundamentalsOf = (r: RecordFields) =>
  ({ ticker: r.ticker, name: r.name, sector: r.sector, marketCapUsd: r.marketCapUsd, revenueUsdM: r.revenueUsdM })
const emissionsOf = (r: RecordFields) => ({
  ticker: r.ticker,
  scope1Tco2e: r.scope1Tco2e,
  scope2Tco2e: r.scope2Tco2e,
  uncertaintyPct: r.uncertaintyPct,
  reportingYear: r.reportingYear
})
const governanceOf = (r: RecordFields) =>
  ({ ticker: r.ticker, score: r.governanceScore, deductions: [] as ReadonlyArray<{ keyIssue: string; points: number }> })

export interface Data {
  readonly fundamentals: ReturnType<typeof fundamentalsOf>
  readonly emissions: ReturnType<typeof emissionsOf>
  readonly governance: ReturnType<typeof governanceOf>
}

export interface Score {
  readonly value: number
  readonly rating: string
}

/** Sources that answer at once (an already settled promise, no timer) from `records`. */
export const zeroLatencySources = (records: ReadonlyArray<RecordFields>, score: Score) => {
  const byTicker = new Map(records.map((record) => [record.ticker, record]))
  const answer = <A>(ticker: string, build: (record: RecordFields) => A): Promise<A> => {
    const record = byTicker.get(ticker)
    return record === undefined ? Promise.reject(new Error(`${ticker}: not found`)) : Promise.resolve(build(record))
  }
  return {
    fundamentals: (ticker: string) => answer(ticker, fundamentalsOf),
    emissions: (ticker: string) => answer(ticker, emissionsOf),
    governance: (ticker: string) => answer(ticker, governanceOf),
    score: () => Promise.resolve(score)
  }
}
