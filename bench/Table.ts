/**
 * Plain-text tables for the benchmark's sections: a title, a header row,
 * aligned columns (the first left-aligned, the rest right-aligned) and
 * optional notes underneath.
 */
import { Console, Effect } from "effect"

export interface Table {
  readonly title: string
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
  readonly notes?: ReadonlyArray<string>
}

export const render = (table: Table): string => {
  const widths = table.header.map((cell, column) =>
    Math.max(cell.length, ...table.rows.map((row) => (row[column] ?? "").length))
  )
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))
      .join("  ")
      .trimEnd()
  const rule = "-".repeat(widths.reduce((sum, width) => sum + width, 0) + 2 * (widths.length - 1))
  return [
    "",
    `== ${table.title}`,
    line(table.header),
    rule,
    ...table.rows.map(line),
    ...(table.notes ?? []).map((note) => `   ${note}`)
  ].join("\n")
}

export const print = (table: Table): Effect.Effect<void> => Console.log(render(table))

export const ms = (millis: number): string => millis.toFixed(0)
export const ms1 = (millis: number): string => millis.toFixed(1)
export const ratio = (value: number): string => `${value.toFixed(2)}x`
export const verdict = (pass: boolean): string => pass ? "PASS" : "MISS"
