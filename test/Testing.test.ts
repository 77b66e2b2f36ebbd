/**
 * The facts `esg-aggregator/testing` reads off a record of events, on
 * records written by hand, so each number can be checked by eye.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Ticker } from "../src/Domain.js"
import { callsInFlight, companyWindows, type Event, makespan, maxCallsInFlight } from "../src/testing/index.js"

const at = (ms: number, ticker: string, source: Event["source"], kind: Event["kind"]): Event => ({
  at: ms,
  ticker: ticker as Ticker,
  source,
  kind
})

// A's emissions call is granted at 0, retried (granted again) at 300 under the same permit, released at 1200;
// A's lookup starts at 0 and arrives at 800; B's governance call waits from 0, is granted at 1200 and arrives at 2200
const record: ReadonlyArray<Event> = [
  at(0, "A", "emissions", "asked"),
  at(0, "A", "emissions", "held"),
  at(0, "A", "emissions", "granted"),
  at(0, "A", "fundamentals", "started"),
  at(0, "B", "governance", "asked"),
  at(300, "A", "emissions", "granted"),
  at(800, "A", "fundamentals", "arrived"),
  at(1200, "A", "emissions", "arrived"),
  at(1200, "A", "emissions", "released"),
  at(1200, "B", "governance", "held"),
  at(1200, "B", "governance", "granted"),
  at(2200, "B", "governance", "arrived"),
  at(2200, "B", "governance", "released")
]

describe("the testing kit's facts", () => {
  it("makespan: from the first request to the last arrival; 0 with nothing arrived", () => {
    assert.strictEqual(makespan(record), 2200)
    assert.strictEqual(makespan(record.filter((e) => e.at >= 300)), 1900)
    assert.strictEqual(makespan([at(500, "A", "emissions", "granted")]), 0)
  })

  it("calls in flight: a retry under its permit is still one call, and one instant is one step", () => {
    assert.deepStrictEqual(callsInFlight(record), [
      { at: 0, calls: 1 },
      { at: 300, calls: 1 },
      // A's release and B's grant at the same instant: one step, one call out
      { at: 1200, calls: 1 },
      { at: 2200, calls: 0 }
    ])
    assert.strictEqual(maxCallsInFlight(record), 1)
    const overlapping = [...record, at(100, "C", "emissions", "granted"), at(900, "C", "emissions", "released")]
    assert.strictEqual(maxCallsInFlight(overlapping), 2)
  })

  it("company windows: each company's first request and last arrival", () => {
    const windows = companyWindows(record)
    assert.deepStrictEqual(windows.get("A"), { firstRequest: 0, lastArrival: 1200 })
    // B asked at 0, but its first request went out only at 1200
    assert.deepStrictEqual(windows.get("B"), { firstRequest: 1200, lastArrival: 2200 })
    assert.deepStrictEqual(companyWindows([at(40, "C", "emissions", "granted")]).get("C"), { firstRequest: 40, lastArrival: undefined })
  })
})
