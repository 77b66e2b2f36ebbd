/**
 * Runs that share work: two analysts who start the same portfolio at the
 * same moment on one store fetch each company once. Real CLI processes, a
 * real `serve-providers`, the SQLite store and a throwaway PostgreSQL
 * cluster; checked company by company: for each, one run fetched it and the
 * other answered it from the store.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import * as PgCluster from "./fixtures/PgCluster.js"
import { serveProviders } from "./fixtures/ProviderProcess.js"

const tickers = fs.readFileSync("data/universe.csv", "utf8").trim().split("\n").slice(1, 17).map((line) => line.split(",")[0]!)

interface Company {
  readonly ticker: string
  readonly status: string
  readonly cached: boolean
}

/** Two runs of the same portfolio, started together against one server, on the store that `storeArgs` names. */
const twoRuns = (storeArgs: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.gen(function*() {
    const server = yield* serveProviders(["--latency-emissions", "150ms", "--latency-governance", "150ms"])
    const args = [
      "--emissions-url",
      server.url,
      "--governance-url",
      server.url,
      "--samples",
      "0",
      "--db-latency",
      "0",
      "--format",
      "json",
      ...storeArgs,
      ...tickers
    ]
    const runs = yield* Effect.all([runBuiltCli(args, { env }), runBuiltCli(args, { env })], { concurrency: 2 })
    const stats = yield* server.stats
    return { runs, stats }
  })

const checkShared = ({ runs, stats }: Effect.Effect.Success<ReturnType<typeof twoRuns>>) => {
  for (const run of runs) assert.strictEqual(run.code, 0, run.stderr)
  const [first, second] = runs.map((run) => JSON.parse(run.stdout).companies as ReadonlyArray<Company>)
  for (const ticker of tickers) {
    const a = first!.find((c) => c.ticker === ticker)
    const b = second!.find((c) => c.ticker === ticker)
    assert.strictEqual(a?.status, "scored", ticker)
    assert.strictEqual(b?.status, "scored", ticker)
    // one of the two fetched it, the other waited for its score
    assert.deepStrictEqual([a!.cached, b!.cached].sort(), [false, true], ticker)
  }
  // as many provider requests as one run makes: two a company
  assert.strictEqual(stats.requests, 2 * tickers.length)
}

describe("two runs of one portfolio, started together on one store", () => {
  layer(PgCluster.layer, { timeout: "180 seconds", excludeTestServices: true })("SQLite and PostgreSQL", (it) => {
    it.scoped("SQLite: each company fetched by one run, the other answered from the store", () =>
      Effect.gen(function*() {
        const cache = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "esg-shared-")), "scores.db")
        checkShared(yield* twoRuns(["--cache", cache]))
      }), { timeout: 120_000 })

    it.scoped("PostgreSQL: the same, on a team's store", () =>
      Effect.gen(function*() {
        const store = yield* Effect.flatMap(PgCluster.Cluster, (cluster) => cluster.database)
        checkShared(yield* twoRuns([], { ESG_STORE_URL: store }))
      }), { timeout: 120_000 })
  })
})
