import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { makeDirectory } from "../src/universe/CompanyDirectory.js"
import { universe } from "./fixtures/Scenario.js"

const directory = makeDirectory(universe)
const resolved = (input: string): string | null => Either.getOrNull(directory.resolve(input))

describe("CompanyDirectory", () => {
  it("resolves the seed companies by name or ticker, in any case", () => {
    assert.deepStrictEqual(
      ["Apple", "microsoft", "META", "Amazon", "tesla", "aapl", "Msft", " Tesla, Inc. ", "Meta Platforms", "Amazon.com"].map(resolved),
      ["AAPL", "MSFT", "META", "AMZN", "TSLA", "AAPL", "MSFT", "TSLA", "META", "AMZN"]
    )
  })

  it("resolves every company of the universe by its full name and by its ticker", () => {
    for (const record of universe) {
      assert.strictEqual(resolved(record.name), record.ticker, record.name)
      assert.strictEqual(resolved(record.ticker.toLowerCase()), record.ticker)
    }
  })

  it("reports an unknown company with a suggestion when one is close", () => {
    const result = directory.resolve("Aple")
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left.input, "Aple")
      assert.strictEqual(result.left.suggestion, "Apple Inc. (AAPL)")
    }
    const far = directory.resolve("Zzyzx Quantum Holdings")
    assert.isTrue(Either.isLeft(far) && far.left.suggestion === undefined)
  })
})
