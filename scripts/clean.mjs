/**
 * Build step before `tsc`: empties `dist`, so that nothing a former layout
 * or a former build left there is published.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
fs.rmSync(path.join(root, "dist"), { recursive: true, force: true })
