/**
 * A section of the benchmark: a name, the rows it measures (named up front,
 * so that a row name on the command line picks its section before anything
 * runs), and the measurement itself.
 */
import type { Effect } from "effect"
import type { Row } from "./Row.js"

/** What a section found: its rows, and any correctness failure (not a slow machine) to report once every section has run. */
export interface Measured {
  readonly rows: ReadonlyArray<Row>
  readonly findings: ReadonlyArray<string>
}

export interface Section<E> {
  readonly name: string
  readonly rows: ReadonlyArray<string>
  /** Runs only when asked for by name (left out of a run with no names, and of `bench/RESULTS.md`). */
  readonly onRequest: boolean
  readonly run: Effect.Effect<Measured, E>
}

export const section = <E>(
  name: string,
  rows: ReadonlyArray<string>,
  run: Effect.Effect<Measured, E>,
  options: { readonly onRequest?: boolean } = {}
): Section<E> => ({ name, rows, run, onRequest: options.onRequest ?? false })
