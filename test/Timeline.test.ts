/**
 * The timeline of API calls: one lane per permit, calls on a lane never
 * overlap, and a call cut off by its deadline is marked.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { Aggregator } from "../src/Aggregator.js"
import type { RunOptions } from "../src/RunConfig.js"
import { ApiGate } from "../src/ApiGate.js"
import * as App from "../src/App.js"
import { type CallRecord, render, Timeline } from "../src/Timeline.js"
import { seedNames, universe } from "./fixtures/Scenario.js"

const runRecorded = (permits: number, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const aggregator = yield* Aggregator
    const fiber = yield* Effect.fork(aggregator.run(seedNames, options))
    yield* TestClock.adjust("60 seconds")
    yield* Fiber.join(fiber)
    // the recorder rides along with the gate it decorates: App.layer's type names the gate only
    const timeline = Option.getOrThrow(yield* Effect.serviceOption(Timeline))
    return { lanes: timeline.lanes, calls: yield* timeline.calls }
  }).pipe(Effect.provide(App.layer({
    records: universe,
    config: { permits, samples: 0 },
    gate: Timeline.recording(ApiGate.layer(permits))
  })))

/** Every pair of calls on one lane, in time order, apart. */
const assertNoOverlap = (calls: ReadonlyArray<CallRecord>) => {
  const byLane = new Map<number, Array<CallRecord>>()
  for (const call of calls) byLane.set(call.lane, [...(byLane.get(call.lane) ?? []), call])
  for (const [lane, onLane] of byLane) {
    const sorted = onLane.sort((a, b) => a.startMs - b.startMs)
    for (let i = 1; i < sorted.length; i++) {
      assert.isAtLeast(sorted[i]!.startMs, sorted[i - 1]!.endMs, `lane ${lane}: ${sorted[i - 1]!.ticker} and ${sorted[i]!.ticker}`)
    }
  }
}

describe("the timeline", () => {
  it.effect("fifo: ten calls on two lanes, none overlapping, the chart one row per lane", () =>
    Effect.gen(function*() {
      const { calls, lanes } = yield* runRecorded(2)
      assert.strictEqual(lanes, 2)
      assert.strictEqual(calls.length, 10)
      assert.deepStrictEqual([...new Set(calls.map((call) => call.lane))].sort(), [0, 1])
      assertNoOverlap(calls)
      assert.isTrue(calls.every((call) => call.ended === "ok"))
      const rows = render(lanes, calls).trimEnd().split("\n").slice(2)
      assert.strictEqual(rows.length, 2)
      assert.match(rows[0]!, /^ 1 \|\[AAPL [eg]\]/)
      assert.strictEqual(Math.max(...calls.map((call) => call.endMs)) - Math.min(...calls.map((call) => call.startMs)), 5600)
    }))

  it.effect("eager: the calls cut off by the deadline are marked x; three permits, three lanes", () =>
    Effect.gen(function*() {
      const { calls, lanes } = yield* runRecorded(3, { schedule: "eager" })
      assert.strictEqual(lanes, 3)
      assert.isTrue(calls.every((call) => call.lane >= 0 && call.lane < 3))
      assertNoOverlap(calls)
      const cut = calls.filter((call) => call.ended === "interrupted")
      assert.isAbove(cut.length, 0)
      const chart = render(lanes, calls)
      assert.strictEqual(chart.trimEnd().split("\n").length, 2 + 3)
      assert.match(chart, /x/)
    }))
})
