/**
 * Regenerates `data/universe.csv`, the committed SYNTHETIC sample universe,
 * from the committed seed: `npx tsx scripts/generate-universe.ts`. The output
 * is deterministic; `test/UniverseDb.test.ts` fails when the committed file
 * and the generator drift apart, and re-running this script fixes it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { DEFAULT_UNIVERSE_SIZE, generateUniverse, UNIVERSE_SEED } from "../src/universe/SampleUniverse.js"
import { toCsv } from "../src/universe/Csv.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const target = path.join(root, "data", "universe.csv")

const records = generateUniverse({ seed: UNIVERSE_SEED, size: DEFAULT_UNIVERSE_SIZE })
fs.mkdirSync(path.dirname(target), { recursive: true })
fs.writeFileSync(target, toCsv(records))
process.stdout.write(`wrote ${path.relative(root, target)}: ${records.length} companies (seed ${UNIVERSE_SEED})\n`)
