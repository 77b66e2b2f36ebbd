/**
 * One measured row of the benchmark: its figure (value and unit), its
 * target, and whether the figure meets it, with the raw figures it was
 * computed from. Every section returns its rows; `run.ts` prints them as
 * JSON lines, as one table for people, and into `bench/RESULTS.md`.
 */
import type { JsonRow } from "./Output.js"

/** A bound on a row's value: at most (`<=`) or at least (`>=`). */
export interface Target {
  readonly bound: "<=" | ">="
  readonly value: number
}

export const atMost = (value: number): Target => ({ bound: "<=", value })
export const atLeast = (value: number): Target => ({ bound: ">=", value })

export type Unit = "x" | "ms" | "s" | "MB" | "companies"

/** A raw figure: a number, a list of numbers (one per run), or a word. */
export type Figure = number | string | boolean | null | ReadonlyArray<number>

export interface Row {
  readonly row: string
  /** What the row measures, in a few words, for the table. */
  readonly what: string
  readonly value: number
  readonly unit: Unit
  /** Null for a row that only informs. */
  readonly target: Target | null
  /** Null when there is no target. */
  readonly met: boolean | null
  /** Said beside the figure for people (`5 of 5 scored`). */
  readonly detail: string
  /** The raw figures the value comes from, printed with the row in `--json`. */
  readonly figures: Readonly<Record<string, Figure>>
}

export interface RowInput {
  readonly row: string
  readonly what: string
  readonly value: number
  readonly unit: Unit
  readonly target?: Target | undefined
  /** What the target presumes besides the bound (every company scored, say): unmet when false. */
  readonly requires?: boolean | undefined
  readonly detail?: string | undefined
  readonly figures?: Row["figures"] | undefined
}

const meets = (value: number, target: Target): boolean => target.bound === "<=" ? value <= target.value : value >= target.value

/** A row, with `met` decided from its value and target. */
export const row = (input: RowInput): Row => ({
  row: input.row,
  what: input.what,
  value: input.value,
  unit: input.unit,
  target: input.target ?? null,
  met: input.target === undefined ? null : meets(input.value, input.target) && (input.requires ?? true),
  detail: input.detail ?? "",
  figures: input.figures ?? {}
})

/** Rounded for print and JSON: three significant decimals for ratios and seconds, one for ms and MB. */
export const rounded = (value: number, unit: Unit): number => {
  const scale = unit === "x" || unit === "s" ? 1000 : unit === "companies" ? 1 : 10
  return Math.round(value * scale) / scale
}

const withUnit = (value: number, unit: Unit): string => {
  switch (unit) {
    case "x":
      return `${value.toFixed(3)}x`
    case "s":
      return `${value.toFixed(2)} s`
    case "ms":
      // a tenth of a ms near a target of tens of ms: 50.4 ms must not read as 50 ms
      return `${value.toFixed(value < 100 ? 1 : 0)} ms`
    case "MB":
      return `${value.toFixed(0)} MB`
    case "companies":
      return `${value.toFixed(0)} companies`
  }
}

export const figureText = (r: Row): string => `${withUnit(r.value, r.unit)}${r.detail === "" ? "" : ` (${r.detail})`}`

export const targetText = (r: Row): string =>
  r.target === null ? "none" : `${r.target.bound === "<=" ? "≤" : "≥"} ${withTarget(r.target.value, r.unit)}`

const withTarget = (value: number, unit: Unit): string => (unit === "x" ? `${value}x` : `${value} ${unit}`)

export const metText = (r: Row): string => r.met === null ? "-" : r.met ? "yes" : "NO"

/** The row as `--json` prints it: `{row, value, unit, target, met}`, the bound, then the raw figures. */
export const jsonOf = (r: Row): JsonRow => ({
  row: r.row,
  value: rounded(r.value, r.unit),
  unit: r.unit,
  target: r.target?.value ?? null,
  met: r.met,
  bound: r.target?.bound ?? null,
  ...r.figures
})
