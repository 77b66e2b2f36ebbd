/**
 * `--output FILE`, written atomically: the text goes to a temporary file
 * beside it, which replaces `FILE` (one rename) only once everything is
 * written. A run that fails or is killed leaves `FILE` as it was.
 *
 * @since 0.3.0
 */
import { Data, Effect, Exit, type Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export class OutputFileError extends Data.TaggedError("OutputFileError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** Where the report is written: `write` appends, and the file appears when the scope closes successfully. */
export interface ReportTarget {
  readonly write: (text: string) => Effect.Effect<void>
  /** Whether the report may be coloured (never in a file). */
  readonly color: boolean
}

const failure = (target: string) => (cause: unknown) =>
  new OutputFileError({ reason: `cannot write ${target}: ${cause instanceof Error ? cause.message : String(cause)}` })

export const openOutputFile = (target: string): Effect.Effect<ReportTarget, OutputFileError, Scope.Scope> =>
  Effect.gen(function*() {
    const final = path.resolve(target)
    const temporary = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.tmp`)
    const fd = yield* Effect.acquireRelease(
      Effect.try({ try: () => fs.openSync(temporary, "w"), catch: failure(target) }),
      (fd, exit) =>
        Effect.sync(() => {
          fs.closeSync(fd)
          if (Exit.isSuccess(exit)) fs.renameSync(temporary, final)
          else fs.rmSync(temporary, { force: true })
        })
    )
    return {
      write: (text) => Effect.sync(() => void fs.writeSync(fd, text)),
      color: false
    }
  })
