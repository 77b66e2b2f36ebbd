/**
 * Child process of the benchmark (section 4): starts and closes a worker pool
 * from the compiled `dist/worker/WorkerPool.js` under plain `node`, as the CLI does.
 * The benchmark itself runs under `node --import tsx`; this child measures
 * the pool without any loader in the host process.
 *
 * Usage: node bench/pool-start.mjs <size> <runs> <dbPath>
 * Prints one JSON line: { "startMs": [...], "closeMs": [...] }.
 */
import { Effect } from "effect"
import { performance } from "node:perf_hooks"
import process from "node:process"
import { makePool } from "../dist/worker/WorkerPool.js"

const [size, runs, dbPath] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]]

const now = Effect.sync(() => performance.now())

const startOnce = Effect.gen(function*() {
  const began = yield* now
  const startMs = yield* Effect.scoped(
    Effect.gen(function*() {
      yield* makePool({ size, dbPath })
      return (yield* now) - began
    })
  )
  return { startMs, closeMs: (yield* now) - began - startMs }
})

const program = Effect.gen(function*() {
  const results = yield* Effect.forEach(Array.from({ length: runs }), () => startOnce)
  process.stdout.write(
    `${JSON.stringify({ startMs: results.map((r) => r.startMs), closeMs: results.map((r) => r.closeMs) })}\n`
  )
})

Effect.runPromise(program).catch((error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
