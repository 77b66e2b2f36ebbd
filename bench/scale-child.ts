/**
 * One side of the scale rows in a process of its own, so that its peak RSS
 * is its own: `node --import tsx bench/scale-child.ts <effect|promise> <n> [--cold-only]`.
 *
 * Prepares the side (records, sources, cache) once, then runs a cold pass
 * (every company through the pipeline) and a warm pass (the same companies
 * again, all cached), and prints one JSON line on stdout:
 * `{coldMs, coldPeakRssMb, warmMs, warmPeakRssMb, rssBeforeMb, rssAfterColdMb,
 * heapBeforeMb, heapAfterColdMb}`. Peak RSS is `process.resourceUsage().maxRSS`,
 * the process's peak so far: the warm figure is the peak over both passes.
 * With `--expose-gc` the heap is collected before the readings around the
 * cold pass, so that their differences approximate what it left behind: the
 * cache (RSS over-counts it by the pages the pass used and V8 kept).
 *
 * Plain TypeScript on purpose: the Promise side's process never loads Effect.
 */
import { makePeer } from "./PromisePeer.js"
import { type Score, syntheticRecords, zeroLatencySources } from "./ScaleData.js"

/** One pass over every company; resolves to the number of companies scored. */
type Pass = () => Promise<number>

const PEER_SCORE: Score = { value: 5, rating: "BBB" }

const promiseSide = (n: number): Promise<Pass> => {
  const records = syntheticRecords(n)
  const tickers = records.map((record) => record.ticker)
  const peer = makePeer(zeroLatencySources(records, PEER_SCORE))
  return Promise.resolve(async () => {
    let scored = 0
    await peer.run(tickers, (outcome) => {
      if (outcome._tag === "Scored") scored++
    })
    return scored
  })
}

const effectSide = async (n: number): Promise<Pass> => (await import("./ScaleEffect.js")).prepare(n)

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 10.24) / 100
const peakRssMb = () => megabytes(process.resourceUsage().maxRSS * 1024)
/** RSS and live heap, after a full collection when `--expose-gc` allows one. */
const settledMb = () => {
  globalThis.gc?.()
  const memory = process.memoryUsage()
  return { rss: megabytes(memory.rss), heap: megabytes(memory.heapUsed) }
}

const timedPass = async (pass: Pass, n: number, name: string) => {
  const started = performance.now()
  const scored = await pass()
  const ms = Math.round((performance.now() - started) * 10) / 10
  if (scored !== n) {
    process.stderr.write(`scale-child: the ${name} pass scored ${scored} of ${n} companies\n`)
    process.exit(1)
  }
  return ms
}

const [side, count, ...flags] = process.argv.slice(2)
const n = Number(count)
if ((side !== "effect" && side !== "promise") || !Number.isSafeInteger(n) || n < 1) {
  process.stderr.write("usage: scale-child.ts <effect|promise> <n> [--cold-only]\n")
  process.exit(2)
}

const pass = await (side === "effect" ? effectSide(n) : promiseSide(n))
const before = settledMb()
const coldMs = await timedPass(pass, n, "cold")
const coldPeakRssMb = peakRssMb()
const afterCold = settledMb()
const warm = flags.includes("--cold-only")
  ? {}
  : { warmMs: await timedPass(pass, n, "warm"), warmPeakRssMb: peakRssMb() }
process.stdout.write(`${
  JSON.stringify({
    coldMs,
    coldPeakRssMb,
    ...warm,
    rssBeforeMb: before.rss,
    rssAfterColdMb: afterCold.rss,
    heapBeforeMb: before.heap,
    heapAfterColdMb: afterCold.heap
  })
}\n`)
