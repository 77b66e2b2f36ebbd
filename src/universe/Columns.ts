/**
 * The universe's columns: one table drives the CSV header, the SQL column
 * names and the record fields, so the three cannot drift apart. Apart from
 * the database module so that reading a CSV loads no SQLite.
 *
 * @since 0.1.0
 */
import type { CompanyRecord } from "../Domain.js"

export const columns = [
  { column: "ticker", field: "ticker", numeric: false },
  { column: "name", field: "name", numeric: false },
  { column: "sector", field: "sector", numeric: false },
  { column: "market_cap_usd", field: "marketCapUsd", numeric: true },
  { column: "revenue_usd_m", field: "revenueUsdM", numeric: true },
  { column: "scope1_tco2e", field: "scope1Tco2e", numeric: true },
  { column: "scope2_tco2e", field: "scope2Tco2e", numeric: true },
  { column: "uncertainty_pct", field: "uncertaintyPct", numeric: true },
  { column: "reporting_year", field: "reportingYear", numeric: true },
  { column: "governance_score", field: "governanceScore", numeric: true },
  { column: "governance_deductions", field: "governanceDeductions", numeric: false }
] as const satisfies ReadonlyArray<{
  readonly column: string
  readonly field: keyof typeof CompanyRecord.fields
  readonly numeric: boolean
}>

