/**
 * The yardstick of the scale rows: the pipeline's `fifo` schedule written
 * with plain Promises. A FIFO limiter of 2 permits, one per external call
 * (emissions, governance); companies admitted one at a time in input order,
 * the next once the current one holds both its permits; a per-company
 * deadline from its first grant over the data phase (fundamentals not
 * gated); a score; the result in a `Map` cache. A cache hit at the start of
 * a company's work returns the cached value. No Effect here.
 */
import type { Data, Score } from "./ScaleData.js"

export interface Sources {
  readonly fundamentals: (ticker: string) => Promise<Data["fundamentals"]>
  readonly emissions: (ticker: string, signal: AbortSignal) => Promise<Data["emissions"]>
  readonly governance: (ticker: string, signal: AbortSignal) => Promise<Data["governance"]>
  readonly score: (data: Data) => Promise<Score>
}

export type Outcome =
  | ({ readonly _tag: "Scored"; readonly ticker: string; readonly score: Score } & Data)
  | { readonly _tag: "Skipped"; readonly ticker: string; readonly reason: string; readonly detail: string }

/** A counting semaphore that grants permits in the order they were asked for. */
class FifoLimiter {
  private readonly waiting: Array<() => void> = []
  constructor(private free: number) {}
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--
      return Promise.resolve()
    }
    return new Promise((grant) => this.waiting.push(grant))
  }
  release(): void {
    const next = this.waiting.shift()
    if (next === undefined) this.free++
    else next()
  }
}

const DATA_INCOMPLETE = "Data Incomplete"

export const makePeer = (sources: Sources, options = { permits: 2, timeoutMs: 2000 }) => {
  const gate = new FifoLimiter(options.permits)
  const cache = new Map<string, Outcome>()
  const release = () => gate.release()

  /** One company; `admit` lets the next one in once this one holds both permits (or has stopped asking). */
  const company = async (ticker: string, admit: () => void): Promise<Outcome> => {
    const hit = cache.get(ticker)
    if (hit !== undefined) return hit
    await gate.acquire() // emissions' permit: the first grant starts the deadline
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new Error(`no data within ${options.timeoutMs} ms`))
      }, options.timeoutMs)
    })
    const { signal } = controller
    const data = Promise.all([
      sources.fundamentals(ticker),
      sources.emissions(ticker, signal).finally(release),
      gate.acquire().then(() => {
        admit()
        if (signal.aborted) {
          release()
          throw signal.reason
        }
        return sources.governance(ticker, signal).finally(release)
      })
    ])
    data.catch(() => {}) // once the deadline has won, a late failure has nobody to tell
    return Promise.race([data, deadline]).finally(() => clearTimeout(timer)).then(
      async ([fundamentals, emissions, governance]): Promise<Outcome> => {
        const score = await sources.score({ fundamentals, emissions, governance })
        const scored = { _tag: "Scored", ticker, fundamentals, emissions, governance, score } as const
        cache.set(ticker, scored)
        return scored
      },
      (error: Error) => ({ _tag: "Skipped", ticker, reason: DATA_INCOMPLETE, detail: error.message })
    )
  }

  /** Every company in input order; each outcome goes to `onOutcome` as it completes. */
  const run = async (tickers: Iterable<string>, onOutcome: (outcome: Outcome) => void): Promise<void> => {
    const running = new Set<Promise<void>>()
    for (const ticker of tickers) {
      let admit!: () => void
      const admitted = new Promise<void>((resolve) => (admit = resolve))
      const work = company(ticker, admit).then(onOutcome).finally(() => {
        admit()
        running.delete(work)
      })
      running.add(work)
      await admitted
    }
    await Promise.all(running)
  }

  return { run }
}
