/**
 * Build step: turns the committed `data/universe.csv` into `dist/universe.db`
 * with the compiled `dist/UniverseDb.js` (run after `tsc`). Plain JS so the
 * build needs no TypeScript loader; deterministic for a given CSV.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import process from "node:process"
import { fileURLToPath } from "node:url"
import { parseCsv } from "../dist/universe/Csv.js"
import { createDatabase } from "../dist/universe/Database.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const source = "data/universe.csv"
const target = "dist/universe.db"

const records = parseCsv(fs.readFileSync(path.join(root, source), "utf8"), { source })
fs.mkdirSync(path.join(root, path.dirname(target)), { recursive: true })
createDatabase(path.join(root, target), records, { synthetic: "true", source })
process.stdout.write(`wrote ${target}: ${records.length} companies from ${source}\n`)
