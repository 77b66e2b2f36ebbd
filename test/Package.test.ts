/**
 * What `npm publish` would ship: the bundles, the library and its type
 * declarations, the sample database; no source maps (the sources are not
 * shipped), and under 3 MB packed.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

interface Packed {
  readonly size: number
  readonly files: ReadonlyArray<{ readonly path: string }>
}

const packed = (): Packed => {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm"
  const json = execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
  return (JSON.parse(json) as ReadonlyArray<Packed>)[0]!
}

describe("the npm package", () => {
  it("carries what a user runs and imports, no source maps, under 3 MB packed", () => {
    const { files, size } = packed()
    const paths = files.map((file) => file.path)
    for (const needed of ["dist/main.js", "dist/worker.js", "dist/universe.db", "dist/index.js", "dist/index.d.ts"]) {
      assert.include(paths, needed)
    }
    assert.deepStrictEqual(paths.filter((path) => path.endsWith(".map")), [])
    assert.isBelow(size, 3_000_000)
  }, 60_000)

  it("loads at each start only what a run uses: no YAML, TOML or property-testing library, under 1 MB of code", () => {
    // the program and the chunks it imports before it runs (dynamic imports load the rest when needed)
    const loaded = new Set<string>()
    const visit = (file: string) => {
      if (loaded.has(file)) return
      loaded.add(file)
      const code = fs.readFileSync(file, "utf8")
      for (const [, chunk] of code.matchAll(/from\s*"(\.\/(?:chunks\/)?[^"]+\.js)"/g)) visit(path.join(path.dirname(file), chunk!))
    }
    visit("dist/Bin.js")
    const bytes = [...loaded].reduce((sum, file) => sum + fs.statSync(file).size, 0)
    // measured 0.93 MB; 1.13 MB with the libraries the build stubs out (scripts/build.mjs)
    assert.isBelow(bytes, 1_000_000)
    for (const file of [...loaded, "dist/worker.js"]) assert.notInclude(fs.readFileSync(file, "utf8"), "YAMLParseError", file)
    // Vega and Vega-Lite (the HTML page's charts) are chunks of their own, loaded by `--format html` alone
    const chunks = fs.readdirSync("dist/chunks").map((name) => path.join("dist/chunks", name))
    const charting = chunks.filter((file) => /aria-roledescription|vega\.github\.io/.test(fs.readFileSync(file, "utf8")))
    assert.strictEqual(charting.length, 2)
    for (const file of charting) assert.isFalse(loaded.has(file), file)
  })
})
