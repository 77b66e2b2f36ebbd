/**
 * The library as its users meet it: the README's example and `examples/`
 * written against the public surface only and type-checked; the package
 * checked by publint and arethetypeswrong; the API report equal to what the
 * code gives; the generated docs built (their examples compiled); a
 * simulated source that was given no companies refusing to build; and the
 * in-memory composition running where the native SQLite module is missing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Emissions } from "../src/Emissions.js"
import { Fundamentals } from "../src/Fundamentals.js"
import { Governance } from "../src/Governance.js"
import { ScoreEngine } from "../src/ScoreEngine.js"

const root = path.resolve(import.meta.dirname, "..")
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")

interface Ran {
  readonly code: number | null
  readonly output: string
}

/** Runs a command in the project's folder; bounded, so a hang fails the test. */
const run = (command: string, args: ReadonlyArray<string>, options: { readonly env?: Record<string, string> } = {}) =>
  Effect.async<Ran>((resume) => {
    const child = execFile(command, args, { cwd: root, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resume(Effect.succeed({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}${stderr}` })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(Effect.timeoutFail({ duration: "5 minutes", onTimeout: () => new Error(`hung: ${command} ${args.join(" ")}`) }))

const npx = (args: ReadonlyArray<string>) => run(process.platform === "win32" ? "npx.cmd" : "npx", ["--no-install", ...args])

describe("the library's surface", () => {
  it("the README's library example is examples/readme-library.ts, and examples import only the package", () => {
    const shown = /## As a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!
    assert.strictEqual(shown, fs.readFileSync(path.join(root, "examples/readme-library.ts"), "utf8"))
    for (const file of fs.readdirSync(path.join(root, "examples"))) {
      const imports = [...fs.readFileSync(path.join(root, "examples", file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]!)
      const outside = imports.filter((from) => !/^(esg-aggregator(\/(testing|team|provider-server))?|effect|@effect\/vitest|node:.+)$/.test(from))
      assert.deepStrictEqual(outside, [], file)
    }
  })

  it.live("the examples type-check against the public surface", () =>
    Effect.gen(function*() {
      const checked = yield* npx(["tsc", "-p", "tsconfig.examples.json"])
      assert.strictEqual(checked.code, 0, checked.output)
    }), 300_000)

  it.live("publint and arethetypeswrong find nothing wrong with the package", () =>
    Effect.gen(function*() {
      const publint = yield* npx(["publint"])
      assert.strictEqual(publint.code, 0, publint.output)
      assert.include(publint.output, "All good!")
      // an ESM-only package: `.attw.json` ignores only the rule that CommonJS callers need `import()`
      const attw = yield* npx(["attw", "--pack", ".", "--profile", "node16"])
      assert.strictEqual(attw.code, 0, attw.output)
    }), 300_000)

  it.live("the API report in etc/api is what the code gives, and every type a public signature mentions is exported", () =>
    Effect.gen(function*() {
      const report = yield* run(process.execPath, ["scripts/api-report.mjs", "--check"])
      assert.strictEqual(report.code, 0, report.output)
    }), 300_000)

  it.live("the API documentation builds, every exported item described, its examples compiled", () =>
    Effect.gen(function*() {
      const docs = yield* run(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "-s", "docs"])
      assert.strictEqual(docs.code, 0, docs.output)
      assert.isAtLeast(Number(/(\d+) example\(s\) found/.exec(docs.output)?.[1] ?? 0), 3, docs.output)
      assert.isTrue(fs.existsSync(path.join(root, "docs/modules/App.ts.md")), "docs/modules/App.ts.md")
    }), 300_000)
})

describe("no synthetic data by accident", () => {
  const refusals = [
    ["Emissions.layerSimulated", Emissions.layerSimulated({ latency: 0 })],
    ["Governance.layerSimulated", Governance.layerSimulated({ latency: 0 })],
    ["Fundamentals.layerSimulated", Fundamentals.layerSimulated({ latency: 0 })],
    ["ScoreEngine.layerInline", ScoreEngine.layerInline({ samples: 0 })]
  ] as const
  for (const [name, layer] of refusals) {
    it.effect(`${name} given no universe or records fails to build, saying what to give`, () =>
      Effect.gen(function*() {
        const built = yield* Effect.exit(Effect.scoped(Layer.build(layer as Layer.Layer<unknown>)))
        assert.isTrue(Exit.isFailure(built))
        if (Exit.isFailure(built)) {
          const defect = String(built.cause._tag === "Die" ? built.cause.defect : "")
          assert.include(defect, `${name}: no companies to serve: give it \`universe\` or \`records\``)
        }
      }))
  }
})

describe("without the native SQLite module", () => {
  it.live("the package root and esg-aggregator/testing load, and the in-memory composition scores the seed companies", () =>
    Effect.gen(function*() {
      // a resolver hook that answers "not installed" for the optional SQLite packages, as after `--omit=optional`
      const hook = `data:text/javascript,${encodeURIComponent(`
        export async function resolve(specifier, context, next) {
          if (/^(better-sqlite3|@effect\\/sql-sqlite-node)(\\/|$)/.test(specifier)) {
            throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: "ERR_MODULE_NOT_FOUND" })
          }
          return next(specifier, context)
        }`)}`
      const register = `data:text/javascript,${encodeURIComponent(`import { register } from "node:module"; register(${JSON.stringify(hook)})`)}`
      const program = `
        import { Effect } from "effect"
        import { Aggregator, App } from "esg-aggregator"
        import { testApp } from "esg-aggregator/testing"
        const seed = ["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]
        const zero = { fundamentals: 0, emissions: 0, governance: 0 }
        const scored = (layer) => Effect.runPromise(Effect.provide(Effect.flatMap(Aggregator, (a) => a.run(seed)), layer))
          .then((report) => report.outcomes.filter((o) => o._tag === "Scored").map((o) => o.ticker).join(" "))
        console.log("app " + await scored(App.layer({ config: { latency: zero, samples: 100 } })))
        console.log("testing " + await scored(testApp({ latency: zero })))
        const missing = await import("better-sqlite3").then(() => "loaded", (error) => error.code)
        console.log("better-sqlite3 " + missing)`
      const ran = yield* run(process.execPath, ["--import", register, "--input-type=module", "-e", program])
      assert.strictEqual(ran.code, 0, ran.output)
      assert.deepStrictEqual(ran.output.trim().split("\n"), [
        "app AAPL MSFT META AMZN TSLA",
        "testing AAPL MSFT META AMZN TSLA",
        "better-sqlite3 ERR_MODULE_NOT_FOUND"
      ])
    }), 120_000)
})
