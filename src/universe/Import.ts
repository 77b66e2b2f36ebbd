/**
 * `import`'s work: a CSV of companies streamed into a new universe
 * database, a row at a time, so a file of a million rows costs what one
 * row costs in memory. A bad row (or a duplicate ticker or name) ends the
 * import with one line naming its line and field, and the database that
 * was there is left untouched.
 *
 * @since 0.6.0
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import { streamCsv } from "./Csv.js"
import { openUniverseWriter } from "./Database.js"

/** A CSV that could not be imported: the reason names the line and field. */
export class ImportError extends Data.TaggedError("ImportError")<{ readonly reason: string }> {}

const reasonOf = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/**
 * Imports `csv` into a fresh database at `db` with `metadata`; the number of
 * companies imported. Interrupted, it stops reading and drops what it wrote.
 */
export const importUniverse = (
  csv: string,
  db: string,
  metadata: Readonly<Record<string, string>>
): Effect.Effect<number, ImportError> =>
  Effect.acquireUseRelease(
    Effect.try({ try: () => openUniverseWriter(db), catch: (cause) => new ImportError({ reason: `${db}: ${reasonOf(cause)}` }) }),
    (writer) =>
      Effect.tryPromise({
        try: async (signal) => {
          const bytes = fs.createReadStream(csv, { highWaterMark: 256 * 1024, signal })
          for await (const { line, row } of streamCsv(bytes, { source: csv })) writer.add(row, line)
          return writer.finish(metadata)
        },
        catch: (cause) => new ImportError({ reason: reasonOf(cause) })
      }),
    // after `finish` there is nothing left to drop: the file is in place
    (writer, exit) => exit._tag === "Success" ? Effect.void : Effect.sync(() => writer.abort())
  )
