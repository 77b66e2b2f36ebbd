/**
 * `import`: loads a CSV of companies into a new universe database, a row
 * at a time. Every row is decoded with the schema the database reader
 * uses, so nothing it accepts can fail later; a bad row is one line naming
 * the line and the field, and the target database is left untouched.
 *
 * @since 0.2.0
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import * as path from "node:path"
import { importUniverse } from "../universe/Import.js"
import { ExitCode } from "./ExitCode.js"
import { docsOf, flag, optionsOf } from "./Flags.js"
import { Output } from "./Output.js"

export const importFlagSet = {
  out: flag({ usage: "--db FILE", description: "the database file to write (replaced atomically); required" }, Options.file("db")),
  synthetic: flag({ usage: "--synthetic", description: "label the data as synthetic", fallback: "off" }, Options.boolean("synthetic"))
}

export const importFlagDocs = docsOf(importFlagSet)

export const importCommand = Command.make(
  "import",
  {
    csv: Args.file({ name: "csv", exists: "yes" }).pipe(Args.withDescription("A CSV with the header of data/universe.csv")),
    ...optionsOf(importFlagSet)
  },
  ({ csv, out, synthetic }) =>
    Effect.gen(function*() {
      const output = yield* Output
      const imported = yield* importUniverse(csv, out, { synthetic: String(synthetic), source: path.basename(csv) }).pipe(
        Effect.either
      )
      if (imported._tag === "Left") {
        yield* output.stderr(`esg-aggregator import: ${imported.left.reason}`)
        return ExitCode.usage
      }
      yield* output.stdout(`imported ${imported.right} companies into ${out}`)
      return ExitCode.ok
    })
).pipe(Command.withDescription("Loads a CSV of companies into a new universe database"))
