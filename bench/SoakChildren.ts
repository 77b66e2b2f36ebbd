/**
 * The soak's child processes (`soak.ts`), each the built CLI
 * (`node dist/main.js`) in a scope that stops it when the scope closes,
 * whether the soak ends, fails or is interrupted: SIGTERM, then SIGKILL if
 * it is still there after a few seconds.
 *
 * - `startProviders`: `serve-providers`, ready once it prints
 *   `listening on URL`; its `GET /stats`, and the tickers its `GET /faults`
 *   names.
 * - `runReport`: one report run, its NDJSON read line by line as it comes
 *   (only what the checks need is kept), its live heap read from V8's line
 *   after each full collection, its RSS sampled from `/proc/<pid>/status`,
 *   bounded in time and in silence.
 * - `runToEnd`: a short command (`import`), bounded.
 */
import { Data, Duration, Effect, Either, Schema, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { InjectedFault, ProviderStats } from "../src/provider-server/ProviderServer.js"
import type { ReportLines } from "./SoakChecks.js"

/** A check failed in a way that ends the soak at once (a hang, a child that would not start). */
export class SoakFailed extends Data.TaggedError("SoakFailed")<{
  readonly check: string
  readonly message: string
}> {}

const root = fileURLToPath(new URL("..", import.meta.url))
export const mainJs = path.join(root, "dist", "main.js")

const STOP_GRACE = Duration.seconds(5)
const STDERR_TAIL = 5
const RSS_EVERY_MS = 250

/** `ESG_*` settings of this shell (a cache, an API key) would make it another run than the one asked for. */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ESG_")))

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/** Stops a child if it still runs: SIGTERM, SIGKILL after a grace, and waits for its exit. */
const stop = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (exited(child)) return resume(Effect.void)
    const force = setTimeout(() => child.kill("SIGKILL"), Duration.toMillis(STOP_GRACE))
    child.once("exit", () => {
      clearTimeout(force)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

/** `node dist/main.js <args>`, its output piped, stopped when the scope closes. */
const spawnCli = (args: ReadonlyArray<string>, nodeFlags: ReadonlyArray<string> = []): Effect.Effect<ChildProcess, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      spawn(process.execPath, [...nodeFlags, mainJs, ...args], { cwd: root, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })
    ),
    stop
  )

/**
 * V8's line for a full collection (`--trace-gc`): the isolate (a thread)
 * and the heap's size after it, which is what the heap still holds.
 */
const FULL_GC = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/

/** The node flags of a report run: V8 reports each full collection on stdout (scavenges left out), read by `watchReport`. */
const TRACE_FULL_GC = ["--trace-gc", "--trace-gc-ignore-scavenger"]

/** The last lines a child wrote on stderr: what a failure line quotes. */
const stderrTail = (child: ChildProcess): (() => ReadonlyArray<string>) => {
  const tail: Array<string> = []
  readline.createInterface({ input: child.stderr! }).on("line", (line) => {
    tail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line)
    if (tail.length > STDERR_TAIL) tail.shift()
  })
  return () => tail
}

interface Ended {
  readonly code: number | null
  readonly signal: string | null
}

/** `resume` of `Effect.async` at most once, whichever of a child's events comes first. */
const once = <A, E>(resume: (effect: Effect.Effect<A, E>) => void) => {
  let resumed = false
  return (effect: Effect.Effect<A, E>) => {
    if (resumed) return
    resumed = true
    resume(effect)
  }
}

/** Succeeds when the child has exited and its output streams are closed. */
const ended = (child: ChildProcess, what: string): Effect.Effect<Ended, SoakFailed> =>
  Effect.async<Ended, SoakFailed>((callback) => {
    const resume = once(callback)
    child.once("error", (error) => resume(Effect.fail(new SoakFailed({ check: what, message: `cannot start: ${error.message}` }))))
    child.once("close", (code, signal) => resume(Effect.succeed({ code, signal })))
  })

/** Runs `node dist/main.js <args>` to its end, within `bound`; its exit and the tail of its stderr. */
export const runToEnd = (args: ReadonlyArray<string>, bound: Duration.Duration, what: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const child = yield* spawnCli(args)
      const tail = stderrTail(child)
      child.stdout!.resume()
      const end = yield* ended(child, what).pipe(
        Effect.timeoutFail({
          duration: bound,
          onTimeout: () => new SoakFailed({ check: what, message: `did not finish within ${Duration.format(bound)}` })
        })
      )
      return { ...end, stderrTail: tail() }
    })
  )

export interface Providers {
  readonly url: string
  readonly stats: Effect.Effect<ProviderStats, SoakFailed>
  /** The tickers the server injected a fault into, in any of their requests. */
  readonly faulted: Effect.Effect<ReadonlySet<string>, SoakFailed>
  /** CPU seconds the server has used so far. */
  readonly cpuSeconds: Effect.Effect<number | undefined>
}

/** `serve-providers <args>` (with `--port 0`), once it listens; stopped, hung requests and all, when the scope closes. */
export const startProviders = (
  args: ReadonlyArray<string>,
  bound: Duration.Duration
): Effect.Effect<Providers, SoakFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* spawnCli(["serve-providers", "--port", "0", ...args])
    const tail = stderrTail(child)
    const url = yield* Effect.async<string, SoakFailed>((callback) => {
      const resume = once(callback)
      const lines = readline.createInterface({ input: child.stdout! })
      lines.on("line", (line) => {
        const listening = /^listening on (\S+)$/.exec(line)
        if (listening !== null) resume(Effect.succeed(listening[1]!))
      })
      child.once("error", (error) => resume(Effect.fail(new SoakFailed({ check: "provider server", message: error.message }))))
      child.once("exit", (code, signal) =>
        resume(Effect.fail(
          new SoakFailed({
            check: "provider server",
            message: `exited (${code ?? signal}) before listening: ${tail().join(" | ") || "(no output)"}`
          })
        )))
    }).pipe(
      Effect.timeoutFail({
        duration: bound,
        onTimeout: () => new SoakFailed({ check: "provider server", message: `not listening within ${Duration.format(bound)}` })
      })
    )
    const stats = Effect.tryPromise({
      try: () => fetch(`${url}/stats`).then((response) => response.json()),
      catch: (cause) => new SoakFailed({ check: "provider server", message: `GET ${url}/stats: ${String(cause)}` })
    }).pipe(
      Effect.flatMap(Schema.decodeUnknown(ProviderStats)),
      Effect.mapError((error) =>
        error._tag === "SoakFailed" ? error : new SoakFailed({ check: "provider server", message: `GET /stats: ${error.message}` })
      )
    )
    const faults = Effect.tryPromise({
      try: async () => {
        const response = await fetch(`${url}/faults`)
        // a record with faulted requests left out would call their companies fault-free
        const leftOut = response.headers.get("faults-left-out")
        if (leftOut !== null) throw new Error(`the server left ${leftOut} faulted requests out of its record`)
        return response.json()
      },
      catch: (cause) => new SoakFailed({ check: "provider server", message: `GET ${url}/faults: ${String(cause)}` })
    }).pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(InjectedFault))),
      Effect.map((faults) => new Set(faults.map((fault) => fault.ticker))),
      Effect.mapError((error) =>
        error._tag === "SoakFailed" ? error : new SoakFailed({ check: "provider server", message: `GET /faults: ${error.message}` })
      )
    )
    return { url, stats, faulted: faults, cpuSeconds: Effect.sync(() => readCpuSeconds(child.pid)) }
  })

/** What one report run gave: its exit, its lines, its RSS over the steady part of the run. */
export interface ReportRun {
  readonly code: number | null
  readonly signal: string | null
  readonly stderrTail: ReadonlyArray<string>
  readonly lines: ReportLines
  readonly rssMb: ReadonlyArray<number>
  readonly peakRssMb: number
  /**
   * The main thread's live heap after each full collection over the steady
   * part of the run (the isolate with the most of them: the main thread
   * allocates the most), in MB.
   */
  readonly liveHeapMb: ReadonlyArray<number>
  /** CPU seconds the CLI used, as last sampled. */
  readonly cpuSeconds: number | undefined
  readonly wallMs: number
}

export interface ReportBounds {
  /** The whole run. */
  readonly run: Duration.Duration
  /** The longest the report may go without a line: a stuck pipeline stops reporting long before `run` ends. */
  readonly silence: Duration.Duration
}

/** CPU seconds of a process so far, every thread included (utime + stime of `/proc/<pid>/stat`, at 100 ticks a second). */
const readCpuSeconds = (pid: number | undefined): number | undefined => {
  const stat = Either.try(() => fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  if (pid === undefined || Either.isLeft(stat)) return undefined
  // the command name (field 2) may hold spaces: count the fields after its closing parenthesis
  const fields = stat.right.slice(stat.right.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const readRssMb = (pid: number): number | undefined => {
  const status = Either.try(() => fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  const kb = Either.isRight(status) ? /^VmRSS:\s+(\d+)\s+kB$/m.exec(status.right)?.[1] : undefined
  return kb === undefined ? undefined : Number(kb) / 1024
}

/**
 * Reads the report as it is written and samples the process's RSS. RSS
 * counts only between the first outcome line and the summary line: the
 * first line means the worker pools are up and a company went through the
 * whole path, so start-up (loading, pools, the universe's first queries),
 * however long it takes on a busy machine, is not in the first quarter;
 * shutdown is not in the last.
 */
const watchReport = (child: ChildProcess) => {
  const reported = new Map<string, number>()
  const scored = new Set<string>()
  const rssMb: Array<number> = []
  const liveHeapMb = new Map<string, Array<number>>()
  let summary: ReportLines["summary"]
  let afterSummary = 0
  let unreadable = 0
  let firstUnreadable: string | undefined
  let lastLineAt = performance.now()
  let peakRssMb = 0
  let cpuSeconds: number | undefined

  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    const gc = FULL_GC.exec(line)
    if (gc !== null) {
      if (reported.size > 0 && summary === undefined) liveHeapMb.set(gc[1]!, [...(liveHeapMb.get(gc[1]!) ?? []), Number(gc[2])])
      return
    }
    lastLineAt = performance.now()
    if (summary !== undefined) afterSummary++
    const parsed = Either.try(() => JSON.parse(line) as Record<string, unknown>)
    const value = Either.isRight(parsed) && typeof parsed.right === "object" && parsed.right !== null ? parsed.right : undefined
    if (value !== undefined && typeof value.summary === "object" && value.summary !== null) {
      const s = value.summary as Record<string, unknown>
      summary = { requested: Number(s.requested), scored: Number(s.scored), skipped: Number(s.skipped), apiCalls: Number(s.apiCalls) }
    } else if (value !== undefined && typeof value.ticker === "string") {
      reported.set(value.ticker, (reported.get(value.ticker) ?? 0) + 1)
      if (value.status === "scored") scored.add(value.ticker)
    } else {
      unreadable++
      firstUnreadable ??= line.slice(0, 200)
    }
  })
  const sampler = setInterval(() => {
    const mb = child.pid === undefined ? undefined : readRssMb(child.pid)
    if (mb === undefined) return
    cpuSeconds = readCpuSeconds(child.pid) ?? cpuSeconds
    peakRssMb = Math.max(peakRssMb, mb)
    if (reported.size > 0 && summary === undefined) rssMb.push(mb)
  }, RSS_EVERY_MS)

  return {
    silentMs: () => performance.now() - lastLineAt,
    reportedSoFar: () => reported.size,
    stop: () => clearInterval(sampler),
    result: (): Pick<ReportRun, "lines" | "rssMb" | "peakRssMb" | "cpuSeconds" | "liveHeapMb"> => ({
      lines: { reported, scored, summary, afterSummary, unreadable, firstUnreadable },
      rssMb,
      liveHeapMb: [...liveHeapMb.values()].reduce<Array<number>>((most, samples) => (samples.length > most.length ? samples : most), []),
      peakRssMb,
      cpuSeconds
    })
  }
}

/** Fails once the report has said nothing for `silence`. */
const silent = (watch: ReturnType<typeof watchReport>, silence: Duration.Duration, what: string) =>
  Effect.gen(function*() {
    while (watch.silentMs() <= Duration.toMillis(silence)) yield* Effect.sleep(Duration.seconds(1))
    return yield* new SoakFailed({
      check: "no hang",
      message: `${what} wrote nothing for ${Duration.format(silence)} after ${watch.reportedSoFar()} companies; killed`
    })
  })

/** One report run (`node dist/main.js <args>`), read and sampled until it ends; stopped if it breaks a bound. */
export const runReport = (args: ReadonlyArray<string>, bounds: ReportBounds, what: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const started = performance.now()
      const child = yield* spawnCli(args, TRACE_FULL_GC)
      const tail = stderrTail(child)
      const watch = watchReport(child)
      yield* Effect.addFinalizer(() => Effect.sync(watch.stop))
      const end = yield* Effect.raceFirst(ended(child, what), silent(watch, bounds.silence, what)).pipe(
        Effect.timeoutFail({
          duration: bounds.run,
          onTimeout: () =>
            new SoakFailed({
              check: "no hang",
              message: `${what} still running after ${Duration.format(bounds.run)} (${watch.reportedSoFar()} companies reported); killed`
            })
        })
      )
      return { ...end, stderrTail: tail(), ...watch.result(), wallMs: performance.now() - started } satisfies ReportRun
    })
  )
