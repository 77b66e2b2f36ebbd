/**
 * What `npm publish` would ship: the bundles, the library and its type
 * declarations, the sample database; no source maps (the sources are not
 * shipped), and under 3 MB packed.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"

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
})
