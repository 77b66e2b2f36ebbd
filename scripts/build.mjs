/**
 * Build step after `tsc`: bundles the worker entry into `dist/worker.js`
 * (a bundled worker starts in about 0.1 s instead of 0.3–0.5 s) and the CLI
 * into `dist/main.js` for the same reason. better-sqlite3 stays external: it
 * is a native module.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

// ESM bundles of CommonJS dependencies need a `require`
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"

/**
 * Libraries the program never runs, stubbed out of the bundles: @effect/cli
 * parses YAML and TOML option files (the program reads none), and Schema's
 * arbitraries need fast-check (for property tests, never at run time). They
 * were a sixth of the code every start loaded. A stub fails loudly if it is
 * ever called.
 */
const unused = ["yaml", "toml", "fast-check"]
const stubUnused = {
  name: "stub-unused",
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${unused.join("|")})$`) }, (args) => ({ path: args.path, namespace: "unused" }))
    build.onLoad({ filter: /.*/, namespace: "unused" }, (args) => ({
      contents: `export const parse = () => { throw new Error("${args.path} is not part of this build") }`,
      loader: "js"
    }))
  }
}

const bundle = (entry, outfile, options = {}) =>
  esbuild.build({
    entryPoints: [path.join(root, entry)],
    // with `split`, what a dynamic import loads is a chunk of its own, read only when that code runs
    ...(options.split
      ? { outdir: path.dirname(path.join(root, outfile)), splitting: true, chunkNames: "chunks/[name]-[hash]" }
      : { outfile: path.join(root, outfile) }),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["better-sqlite3", ...(options.external ?? [])],
    banner: { js: banner },
    // no source maps: the sources are not shipped, and the maps would be most of the package
    sourcemap: false,
    // smaller bundles parse faster: every worker thread and every CLI start loads one
    minify: true,
    logLevel: "warning",
    plugins: [stubUnused]
  })

await bundle("src/worker/Entry.ts", "dist/worker.js")
// replace tsc's dist/Bin.js and dist/main.js: the library (dist/index.js) stays unbundled.
// The entry loads the bin only when it has more to do than print help: the bin stays out of its bundle.
await bundle("src/Bin.ts", "dist/Bin.js", { split: true })
await bundle("src/main.ts", "dist/main.js", { external: ["./Bin.js"] })

// The help and version text the entry prints without loading the bin, from tsc's unbundled output
const { helpText } = await import(path.join(root, "dist/cli/Help.js"))
const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const topics = Object.fromEntries(
  ["report", "import", "serve-providers"].map((topic) => [
    topic,
    { plain: helpText(topic, version), color: helpText(topic, version, { color: true }) }
  ])
)
fs.writeFileSync(path.join(root, "dist/help.json"), JSON.stringify({ version, topics }))
process.stdout.write("bundled dist/worker.js, dist/Bin.js and dist/main.js; wrote dist/help.json\n")
