/**
 * The README shows what the program really prints: each example that opens
 * with `$ node dist/main.js ARGS` is run with the built CLI and compared with
 * the README, line for line (its stdout, or its stderr for an example that
 * prints nothing on stdout: a usage error), after masking what differs between runs (the
 * total time) and between machines (where the package is installed). The
 * JSON report example is checked for its shape against a real run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import { runBuiltCli } from "./fixtures/BuiltCli.js"

const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8")

const mask = (text: string) =>
  text
    .replace(/total time \d+\.\d\d s/g, "total time <varies> s")
    .replace(/fundamentals \S*\/dist\/universe\.db/g, "fundamentals /path/to/dist/universe.db")

const examples = [...readme.matchAll(/```\n\$ node dist\/main\.js([^\n]*)\n([\s\S]*?)```/g)].map((match) => ({
  args: match[1]!.trim().split(/\s+/).filter((arg) => arg.length > 0),
  printed: match[2]!
}))

/** Every key path of a JSON value (arrays by their first element). */
const shape = (value: unknown, at = ""): ReadonlyArray<string> =>
  Array.isArray(value)
    ? value.length === 0 ? [at] : shape(value[0], `${at}[]`)
    : typeof value === "object" && value !== null
    ? Object.entries(value).flatMap(([key, inner]) => [`${at}.${key}`, ...shape(inner, `${at}.${key}`)])
    : []

describe("the README", () => {
  it("has examples to check", () => {
    assert.isAtLeast(examples.length, 1)
  })

  for (const example of examples) {
    it.live(`prints what \`node dist/main.js ${example.args.join(" ")}\` prints`, () =>
      Effect.gen(function*() {
        const run = yield* runBuiltCli(example.args)
        const printed = run.stdout === "" ? run.stderr : run.stdout
        assert.strictEqual(mask(printed), mask(example.printed), run.stderr)
      }))
  }

  it.live("shows the JSON report in the shape the program prints", () =>
    Effect.gen(function*() {
      const shown = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)![1]!)
      const run = yield* runBuiltCli(["--schedule", "eager", "--format", "json"])
      const real = JSON.parse(run.stdout)
      for (const part of ["companies[0]", "companies[1]", "summary"] as const) {
        const pick = (report: { companies: ReadonlyArray<unknown>; summary: unknown }) =>
          part === "summary" ? report.summary : report.companies[part === "companies[0]" ? 0 : 1]
        assert.deepStrictEqual([...shape(pick(shown))].sort(), [...shape(pick(real))].sort(), part)
      }
      assert.strictEqual(real.summary.apiCalls, shown.summary.apiCalls)
    }))
})
