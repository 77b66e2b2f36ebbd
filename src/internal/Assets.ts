/**
 * Files the build puts beside `dist/main.js`: the bundled worker and the
 * sample database. Found relative to this module, so they resolve from the
 * compiled package, from the bundle, and from source under the test runner.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

/** The path of a built asset (`worker.js`, `universe.db`); the first candidate when none exists yet. */
export const assetPath = (file: string): string => {
  // beside the bundle (dist/main.js), beside the compiled library (dist/internal/), or from source (src/internal/)
  const candidates = [`./${file}`, `../${file}`, `../../dist/${file}`].map((relative) => new URL(relative, import.meta.url)).map((url) =>
    fileURLToPath(url)
  )
  return candidates.find((path) => fs.existsSync(path)) ?? candidates[0]!
}
