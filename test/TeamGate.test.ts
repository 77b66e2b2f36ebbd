/**
 * The team gate on a real PostgreSQL (a throwaway cluster): gates built in
 * this process, each with its own connections as a process would have them,
 * share one quota; a killed process is a real child process; a stopped
 * server is the real server stopped. Real time: the waits are PostgreSQL's.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Ref, Schedule } from "effect"
import { spawn } from "node:child_process"
import pg from "pg"
import { ApiGate, type ApiGateService } from "../src/ApiGate.js"
import * as Deadline from "../src/Deadline.js"
import type { Ticker } from "../src/Domain.js"
import * as TeamGate from "../src/team/TeamGate.js"
import * as PgCluster from "./fixtures/PgCluster.js"

/** A process's gate of `permits` over the team's quota at `url`. */
const gateAt = (url: string, permits = 2) =>
  Effect.flatMap(TeamGate.make({ url, permits, quota: "test quota" }), (shared) => ApiGate.make(permits, shared))

/** The advisory locks held in the database at `url` (slots, turnstile, priority). */
const advisoryLocks = (url: string) =>
  Effect.promise(async () => {
    const client = new pg.Client(url)
    await client.connect()
    const result = await client.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted")
    await client.end()
    return result.rows[0].n as number
  })

/** A call of `company` (its deadline) through `gate` that notes its grant in `log` and lasts until `done`. */
const callUntil = <E>(
  gate: ApiGateService,
  deadline: Deadline.Deadline,
  name: string,
  log: Ref.Ref<ReadonlyArray<string>>,
  done: Effect.Effect<void, E>
) =>
  gate.call(
    { source: "emissions", company: { ticker: name as Ticker, deadline } },
    Effect.zipRight(Ref.update(log, (all) => [...all, name]), done)
  )

/** Waits until `log` has `n` entries (bounded: a wrong gate fails, it does not hang). */
const awaitGrants = (log: Ref.Ref<ReadonlyArray<string>>, n: number) =>
  Ref.get(log).pipe(
    Effect.repeat({ until: (all) => all.length >= n, schedule: Schedule.spaced("5 millis") }),
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`fewer than ${n} grants`) })
  )

layer(PgCluster.layer, { timeout: "60 seconds", excludeTestServices: true })("the team gate on PostgreSQL", (it) => {
  it.scoped("three processes on two permits: never more than two calls in flight, companies admitted in turn, none starved", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const gates = [yield* gateAt(url), yield* gateAt(url), yield* gateAt(url)]
      let inFlight = 0
      let most = 0
      const starts: Array<number> = []
      const call = (gate: ApiGateService, deadline: Deadline.Deadline) =>
        gate.call(
          { source: "emissions", company: { ticker: "T" as Ticker, deadline } },
          Effect.acquireUseRelease(
            Effect.sync(() => (most = Math.max(most, ++inFlight))),
            () => Effect.sleep("80 millis"),
            () => Effect.sync(() => inFlight--)
          )
        )
      // each process: twelve companies one after the other, each with its two calls, the second once the first is granted
      const process = (gate: ApiGateService, p: number) =>
        Effect.forEach(Array.from({ length: 12 }), () =>
          Effect.gen(function*() {
            const deadline = yield* Deadline.make("1 hour")
            const first = yield* Effect.forkScoped(Effect.zipRight(Effect.sync(() => starts.push(p)), call(gate, deadline)))
            yield* deadline.started
            yield* call(gate, deadline)
            yield* Fiber.join(first)
          }), { discard: true })
      yield* Effect.forEach(gates, process, { concurrency: "unbounded", discard: true }).pipe(Effect.timeout("30 seconds"))

      assert.strictEqual(most, 2)
      assert.strictEqual(starts.length, 36)
      // in turn: no process starts two companies in a row while the others wait
      const firstGrants = starts.slice(0, 33)
      const longestRun = firstGrants.reduce(
        (acc, p, i) => (i > 0 && firstGrants[i - 1] === p ? { run: acc.run + 1, most: Math.max(acc.most, acc.run + 1) } : { run: 1, most: acc.most }),
        { run: 0, most: 1 }
      ).most
      assert.isAtMost(longestRun, 2, `starts: ${starts.join("")}`)
      // none starved: the longest wait for a permit is a few calls' time, not the others' whole runs (24 × 80 ms)
      for (const gate of gates) assert.isBelow((yield* gate.stats).longestWaitMs, 1200)
      assert.strictEqual(yield* advisoryLocks(url), 0)
    }))

  it.scoped("a company's first call holds the team's turnstile until its later call has a permit; that call goes first", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const [a, b] = [yield* gateAt(url), yield* gateAt(url)]
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const release = yield* Deferred.make<void>()
      const done = Deferred.await(release)
      // A's company X takes its first permit; B's company Y asks next; X's later call asks only after that
      const x = yield* Deadline.make("1 hour")
      yield* Effect.forkScoped(callUntil(a, x, "X1", log, done))
      yield* awaitGrants(log, 1)
      yield* Effect.forkScoped(callUntil(b, yield* Deadline.make("1 hour"), "Y1", log, done))
      yield* Effect.sleep("300 millis")
      // a permit is free, but Y must not start: X's later call would then miss its deadline waiting for it
      assert.deepStrictEqual(yield* Ref.get(log), ["X1"])
      yield* Effect.forkScoped(callUntil(a, x, "X2", log, done))
      yield* awaitGrants(log, 2)
      assert.deepStrictEqual(yield* Ref.get(log), ["X1", "X2"])
      yield* Deferred.succeed(release, undefined)
      yield* awaitGrants(log, 3)
      assert.deepStrictEqual(yield* Ref.get(log), ["X1", "X2", "Y1"])
    }))

  it.scoped("a started company's call goes before a company that asked earlier but has not started", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const [a, b, c] = [yield* gateAt(url), yield* gateAt(url), yield* gateAt(url)]
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const holds = [yield* Deferred.make<void>(), yield* Deferred.make<void>()] as const
      // A holds both permits with the later calls of two started companies: the turnstile is free
      yield* Effect.forkScoped(callUntil(a, yield* Deadline.startNow("1 hour"), "A", log, Deferred.await(holds[0])))
      yield* awaitGrants(log, 1)
      yield* Effect.forkScoped(callUntil(a, yield* Deadline.startNow("1 hour"), "A", log, Deferred.await(holds[1])))
      yield* awaitGrants(log, 2)
      // B's newcomer takes the turnstile and looks for a slot; then C's continuation looks too
      yield* Effect.forkScoped(callUntil(b, yield* Deadline.make("1 hour"), "B-new", log, Effect.never))
      yield* Effect.sleep("200 millis")
      yield* Effect.forkScoped(callUntil(c, yield* Deadline.startNow("1 hour"), "C-started", log, Effect.never))
      yield* Effect.sleep("200 millis")
      yield* Deferred.succeed(holds[1], undefined)
      yield* awaitGrants(log, 3)
      yield* Deferred.succeed(holds[0], undefined)
      yield* awaitGrants(log, 4)
      assert.deepStrictEqual(yield* Ref.get(log), ["A", "A", "C-started", "B-new"])
    }))

  it.scoped("a waiter interrupted, and calls ended by failure or interruption, leave no lock held", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const [a, b] = [yield* gateAt(url), yield* gateAt(url)]
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const holding = yield* Effect.forkScoped(
        Effect.all([
          callUntil(a, yield* Deadline.make("1 hour"), "A1", log, Effect.never),
          callUntil(a, yield* Deadline.startNow("1 hour"), "A2", log, Effect.zipRight(Effect.sleep("100 millis"), Effect.fail("boom")))
        ], { concurrency: 2 })
      )
      yield* awaitGrants(log, 2)
      const waiting = yield* Effect.forkScoped(callUntil(b, yield* Deadline.make("1 hour"), "B", log, Effect.never))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      // A2 failed, which interrupted A1: both permits free, nothing left in PostgreSQL
      assert.isTrue(Exit.isFailure(yield* Fiber.await(holding)))
      const after = yield* Ref.make<ReadonlyArray<string>>([])
      yield* callUntil(b, yield* Deadline.make("1 hour"), "B", after, Effect.void).pipe(Effect.timeout("5 seconds"))
      yield* Effect.sleep("50 millis")
      assert.strictEqual(yield* advisoryLocks(url), 0)
    }))

  it.scoped("a process killed while it holds every permit gives them back within a second", () =>
    Effect.gen(function*() {
      const url = yield* Effect.flatMap(PgCluster.Cluster, (c) => c.database)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, ["--import", "tsx", "test/fixtures/hold-permits.ts", url, "2", "test quota"], {
            stdio: ["ignore", "pipe", "pipe"]
          })
        ),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      yield* Effect.async<void>((resume) => {
        child.stdout.on("data", (chunk: Buffer) => (chunk.toString().includes("held") ? resume(Effect.void) : undefined))
      }).pipe(Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("the child never held the permits") }))
      const gate = yield* gateAt(url)
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      yield* Effect.forkScoped(callUntil(gate, yield* Deadline.make("1 hour"), "after", log, Effect.void))
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual(yield* Ref.get(log), [])
      const killedAt = performance.now()
      child.kill("SIGKILL")
      yield* awaitGrants(log, 1)
      const tookMs = performance.now() - killedAt
      assert.isBelow(tookMs, 1000, `permits back ${tookMs.toFixed(0)} ms after the kill`)
    }))

  it.scoped("PostgreSQL stopped: lost says why within seconds, no permit is granted, and nothing waits for ever", () =>
    Effect.gen(function*() {
      // a cluster of its own: this one is stopped
      const cluster = yield* PgCluster.make
      const gate = yield* gateAt(cluster.url)
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const holds = yield* Deferred.make<void>()
      const holder = yield* Effect.forkScoped(
        Effect.all([
          callUntil(gate, yield* Deadline.make("1 hour"), "H1", log, Deferred.await(holds)),
          callUntil(gate, yield* Deadline.startNow("1 hour"), "H2", log, Deferred.await(holds))
        ], { concurrency: 2 })
      )
      yield* awaitGrants(log, 2)
      const other = yield* gateAt(cluster.url)
      const waiting = yield* Effect.forkScoped(callUntil(other, yield* Deadline.make("1 hour"), "W", log, Effect.void))
      yield* Effect.sleep("100 millis")
      yield* cluster.stop
      const lost = yield* other.lost.pipe(Effect.timeout("5 seconds"))
      assert.match(lost.message, new RegExp(`^API gate unavailable: postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/postgres: `))
      // the calls already holding permits end as they would
      yield* Deferred.succeed(holds, undefined)
      yield* Fiber.join(holder).pipe(Effect.timeout("5 seconds"))
      assert.isTrue(Option.isSome(yield* Effect.timeout(gate.lost, "5 seconds").pipe(Effect.option)))
      // the waiter never got a permit, and ends when the run ends it
      assert.deepStrictEqual([...yield* Ref.get(log)].sort(), ["H1", "H2"])
      yield* Fiber.interrupt(waiting).pipe(Effect.timeout("5 seconds"))
    }))
})

describe("the quota key", () => {
  it("is the same for the same quota, and differs for another", () => {
    assert.strictEqual(TeamGate.quotaKey("a"), TeamGate.quotaKey("a"))
    assert.notStrictEqual(TeamGate.quotaKey("a"), TeamGate.quotaKey("b"))
  })
})
