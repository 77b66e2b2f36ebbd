/**
 * The yardstick of the throughput rows (`Throughput.ts`): the program's
 * `fifo` semantics written with plain Promises over HTTP, as small as it can
 * be. A FIFO limiter of P permits, one per call (emissions, governance);
 * companies admitted one at a time in input order, the next once the
 * current one holds both its permits; a deadline from a company's first
 * grant, its calls aborted through an AbortController when it passes;
 * Node's `fetch`; a `Map` cache. No Effect, no database, no score: what is
 * left is what the quota costs.
 *
 * `node bench/promise-http.mjs TICKERS_FILE PERMITS BASE_URL [TIMEOUT_MS]`
 * prints one JSON line: `{ scored, n, ms, maxIn, calls }`.
 */
import { readFileSync } from "node:fs"

const [file, permitsArg, base, timeoutArg] = process.argv.slice(2)
const permits = Number(permitsArg)
const timeoutMs = Number(timeoutArg ?? 2000)
const tickers = readFileSync(file, "utf8").split("\n").map((line) => line.trim()).filter(Boolean)

let free = permits
let inFlight = 0
let maxIn = 0
let calls = 0
const waiting = []
const acquire = () =>
  free > 0 ? (free--, Promise.resolve()) : new Promise((grant) => waiting.push(grant))
const release = () => {
  const next = waiting.shift()
  if (next === undefined) free++
  else next()
}
const call = (route, ticker, signal) => {
  calls++
  inFlight++
  maxIn = Math.max(maxIn, inFlight)
  return fetch(`${base}/${route}/${ticker}`, { signal })
    .then((response) => {
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
      return response.json()
    })
    .finally(() => {
      inFlight--
      release()
    })
}

const cache = new Map()
let scored = 0

/** One company; `admit` lets the next one in once this one holds both its permits. */
const company = async (ticker, admit) => {
  await acquire()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error("deadline")), timeoutMs)
  const emissions = call("emissions", ticker, controller.signal)
  emissions.catch(() => {}) // awaited below; a failure before then is not unhandled
  await acquire()
  admit()
  const governance = controller.signal.aborted
    ? (release(), Promise.reject(controller.signal.reason))
    : call("governance", ticker, controller.signal)
  // a company whose deadline passed, or whose provider failed, is skipped
  await Promise.all([emissions, governance]).then(
    ([e, g]) => {
      cache.set(ticker, { e, g })
      scored++
    },
    () => {}
  )
  clearTimeout(timer)
}

const started = performance.now()
const running = new Set()
for (const ticker of tickers) {
  let admit
  const admitted = new Promise((resolve) => (admit = resolve))
  const work = company(ticker, admit).finally(() => running.delete(work))
  running.add(work)
  await admitted
}
await Promise.all(running)
process.stdout.write(`${JSON.stringify({ scored, n: tickers.length, ms: Math.round(performance.now() - started), maxIn, calls })}\n`)
