/**
 * Every row of a run in one markdown table (row, figure, target, met), as
 * the run prints it at the end and as `bench/RESULTS.md` keeps it, with the
 * machine the figures come from.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { figureText, metText, type Row, targetText } from "./Row.js"

export const resultsFile = fileURLToPath(new URL("./RESULTS.md", import.meta.url))

export const markdownTable = (rows: ReadonlyArray<Row>): string =>
  [
    "| row | figure | target | met | what it measures |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| \`${r.row}\` | ${figureText(r)} | ${targetText(r)} | ${metText(r)} | ${r.what} |`)
  ].join("\n")

/** Where and when the rows were measured. */
export interface RunInfo {
  readonly startedAt: Date
  readonly machine: string
  readonly loadAtStart: string
  readonly loadAtEnd: string
  readonly seconds: number
  readonly sections: ReadonlyArray<string>
}

const document = (rows: ReadonlyArray<Row>, findings: ReadonlyArray<string>, info: RunInfo): string => {
  const missed = rows.filter((r) => r.met === false).map((r) => `\`${r.row}\``)
  return `# Benchmark results

Produced by \`npm run bench\` with no names (every section but \`scale-1m\`);
a run with names (\`npm run bench -- startup default-run\`) prints its rows
and leaves this file alone. Regenerate it on a quiet machine: the figures
are real time, and a busy neighbour moves them.

- date: ${info.startedAt.toISOString()}
- machine: ${info.machine}
- load average (1, 5, 15 min): ${info.loadAtStart} at the start, ${info.loadAtEnd} at the end
- sections: ${info.sections.join(", ")}; ${info.seconds.toFixed(0)} s in all

${markdownTable(rows)}

met: \`yes\` or \`NO\` against the target; \`-\`: the row informs and has no
target. ${missed.length === 0 ? "Every target is met." : `Not met: ${missed.join(", ")}.`}
${findings.length === 0 ? "No correctness failure." : `Correctness failures: ${findings.join("; ")}.`}
The run's own output has each section's table (every round, the raw
figures); \`npm run bench -- --json\` prints every row as one JSON line with
its raw figures.
`
}

/** The blocks of sections run only on request, as the file keeps them, by name. */
const blockPattern = /<!-- section:([a-z0-9-]+) -->[\s\S]*?<!-- \/section:\1 -->\n/g

const keptBlocks = (): string => {
  const existing = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, "utf8") : ""
  return Array.from(existing.matchAll(blockPattern), (match) => match[0]).join("\n")
}

/** Every row of a run with no names; the blocks of the sections run on request are kept. */
export const writeResults = (rows: ReadonlyArray<Row>, findings: ReadonlyArray<string>, info: RunInfo) =>
  Effect.sync(() => {
    const blocks = keptBlocks()
    fs.writeFileSync(resultsFile, `${document(rows, findings, info)}${blocks === "" ? "" : `\n${blocks}`}`)
  })

/** A section run on request (`npm run bench -- universe`): its block in the file, replaced or added. */
export const writeSectionResults = (
  name: string,
  rows: ReadonlyArray<Row>,
  findings: ReadonlyArray<string>,
  info: RunInfo
) =>
  Effect.sync(() => {
    const missed = rows.filter((r) => r.met === false).map((r) => `\`${r.row}\``)
    const block = `<!-- section:${name} -->
## \`${name}\` (\`npm run bench -- ${name}\`, run on request)

- date: ${info.startedAt.toISOString()}
- machine: ${info.machine}
- load average (1, 5, 15 min): ${info.loadAtStart} at the start, ${info.loadAtEnd} at the end; ${info.seconds.toFixed(0)} s in all

${markdownTable(rows)}

${missed.length === 0 ? "Every target is met." : `Not met: ${missed.join(", ")}.`} ${
      findings.length === 0 ? "No correctness failure." : `Correctness failures: ${findings.join("; ")}.`
    }
<!-- /section:${name} -->
`
    const existing = fs.readFileSync(resultsFile, "utf8")
    const marker = new RegExp(`<!-- section:${name} -->[\\s\\S]*?<!-- /section:${name} -->\\n`)
    fs.writeFileSync(resultsFile, marker.test(existing) ? existing.replace(marker, block) : `${existing}\n${block}`)
  })
