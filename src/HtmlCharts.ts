/**
 * The HTML report's charts: Vega-Lite specs of a report's figures, rendered
 * to SVG by Vega's own renderer in Node (no DOM, no canvas). Vega is loaded
 * when the first chart is drawn, never by a run that writes no page.
 *
 * @since 0.1.0
 */
import { Data, Effect } from "effect"
import type { TopLevelSpec } from "vega-lite"
import { type Rating, ratings } from "./Domain.js"
import type { ReportJson, ScoredJson } from "./Report.js"
import type { CallRecord } from "./Timeline.js"

/**
 * A chart Vega could not draw.
 *
 * @since 0.1.0
 */
export class ChartError extends Data.TaggedError("ChartError")<{ readonly chart: string; readonly cause: unknown }> {
  override get message() {
    return `the ${this.chart} chart could not be drawn: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * A drawn chart: its id (unique in a page), title, one sentence a reader who cannot see it is told, and its SVG.
 *
 * @since 0.1.0
 */
export interface Chart {
  readonly id: string
  readonly title: string
  readonly summary: string
  readonly svg: string
}

/**
 * The API calls of a run on their permit lanes, as `--timeline` records them.
 *
 * @since 0.1.0
 */
export interface CallLanes {
  /** The permits: one lane each. */
  readonly lanes: number
  /** The calls, each on its lane. */
  readonly calls: ReadonlyArray<CallRecord>
}

/**
 * Holdings the interval chart shows at the most: the heaviest, then by ticker.
 *
 * @since 0.1.0
 */
export const MOST_HOLDINGS_CHARTED = 60

/**
 * The rating groups, each with a colour that passes contrast on white; the letters always say the rating too.
 *
 * @since 0.1.0
 */
export const ratingGroup = (rating: Rating): "leader" | "average" | "laggard" =>
  rating === "AAA" || rating === "AA" ? "leader" : rating === "B" || rating === "CCC" ? "laggard" : "average"
const groupColors = { leader: "#1a7f37", average: "#9a6700", laggard: "#cf222e" } as const

const config = {
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  background: "white",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, labelColor: "#1f2328", titleColor: "#1f2328" },
  legend: { labelFontSize: 11, titleFontSize: 11, labelColor: "#1f2328", titleColor: "#1f2328", orient: "bottom" },
  title: { fontSize: 13, anchor: "start", color: "#1f2328" }
} as const

const percent = (fraction: number) => Math.round(fraction * 1000) / 10

const vegaModules = Effect.promise(() => Promise.all([import("vega"), import("vega-lite")]))

/** `spec` drawn as SVG, with a `<title>` (and the summary as its description) a screen reader announces. */
const draw = (id: string, title: string, summary: string, spec: TopLevelSpec): Effect.Effect<Chart, ChartError> =>
  Effect.flatMap(vegaModules, ([vega, vegaLite]) =>
    Effect.acquireUseRelease(
      Effect.try({
        try: () => {
          // quiet: a warning of Vega's is not the user's to read
          const compiled = vegaLite.compile({ ...spec, config } as TopLevelSpec, { logger: vega.logger(vega.None) }).spec
          return new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.None })
        },
        catch: (cause) => new ChartError({ chart: title, cause })
      }),
      (view) => Effect.tryPromise({ try: () => view.toSVG(), catch: (cause) => new ChartError({ chart: title, cause }) }),
      (view) => Effect.sync(() => view.finalize())
    )).pipe(Effect.map((svg) => {
      const open = svg.indexOf(">")
      const labelled = svg.slice(0, 4) +
        ` role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false"` + svg.slice(4, open + 1) +
        `<title id="${id}-title">${escapeText(title)}</title><desc id="${id}-desc">${escapeText(summary)}</desc>` +
        svg.slice(open + 1)
      return { id, title, summary, svg: labelled }
    }))

/**
 * Text for markup: `&`, `<`, `>`, `"` and `'` as entities.
 *
 * @since 0.1.0
 */
export const escapeText = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;"))

const scoredOf = (report: ReportJson): ReadonlyArray<ScoredJson> =>
  report.companies.filter((company): company is ScoredJson => company.status === "scored")

/** The scored holdings' weights: the portfolio's, or each the same. */
const weightOf = (report: ReportJson) => (company: ScoredJson): number =>
  company.weight ?? 1 / Math.max(1, report.companies.length)

const ratingMix = (report: ReportJson) => {
  const mix = report.portfolio?.ratingMix.ratings
  const scored = scoredOf(report)
  const weight = weightOf(report)
  const rows = ratings.slice().reverse().map((rating) => {
    const share = mix !== undefined
      ? mix[rating]
      : scored.filter((c) => c.score.rating === rating).reduce((sum, c) => sum + weight(c), 0)
    return { rating, group: ratingGroup(rating), share: percent(share), label: `${percent(share)} %` }
  })
  const largest = rows.reduce((best, row) => (row.share > best.share ? row : best), rows[0]!)
  const spec: TopLevelSpec = {
    width: 360,
    height: 180,
    data: { values: rows },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "rating", type: "ordinal", sort: null, title: "Rating", axis: { labelAngle: 0 } },
          y: { field: "share", type: "quantitative", title: "Share of the weight (%)" },
          color: {
            field: "group",
            type: "nominal",
            title: "Group",
            scale: { domain: ["leader", "average", "laggard"], range: Object.values(groupColors) }
          }
        }
      },
      {
        mark: { type: "text", dy: -6, fontSize: 10, color: "#1f2328" },
        encoding: {
          x: { field: "rating", type: "ordinal", sort: null },
          y: { field: "share", type: "quantitative" },
          text: { field: "label" }
        }
      }
    ]
  }
  return draw(
    "chart-ratings",
    "Rating mix by weight",
    largest.share === 0
      ? "No holding was scored."
      : `The largest share of the weight is rated ${largest.rating} (${largest.label}); ${
        rows.filter((row) => row.share > 0).map((row) => `${row.rating} ${row.label}`).join(", ")
      }.`,
    spec
  )
}

const sectors = (report: ReportJson) => {
  const portfolio = report.portfolio
  const waci = portfolio?.waci?.value ?? 0
  const rows = (portfolio?.sectors ?? []).flatMap((s) => {
    const share = waci > 0 ? percent(s.waciContribution / waci) : 0
    // each bar says what it is in words too: colour never carries the measure alone
    return [
      { sector: s.sector, measure: "Weight", value: percent(s.weight), label: `weight ${percent(s.weight)} %` },
      { sector: s.sector, measure: "Share of the WACI", value: share, label: `WACI ${share} %` }
    ]
  })
  const measures = ["Weight", "Share of the WACI"]
  const spec: TopLevelSpec = {
    width: 300,
    data: { values: rows },
    encoding: {
      y: { field: "sector", type: "nominal", title: null, sort: null, axis: { labelLimit: 220 } },
      yOffset: { field: "measure", sort: measures },
      x: { field: "value", type: "quantitative", title: "% of the portfolio", scale: { domain: [0, 130] }, axis: { values: [0, 20, 40, 60, 80, 100] } }
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          color: { field: "measure", type: "nominal", title: null, sort: measures, scale: { range: ["#0969da", "#8250df"] } }
        }
      },
      {
        mark: { type: "text", align: "left", dx: 3, fontSize: 9, color: "#1f2328" },
        encoding: { text: { field: "label" } }
      }
    ]
  }
  const heaviest = portfolio?.sectors[0]
  return draw(
    "chart-sectors",
    "Sectors: weight and share of the WACI",
    heaviest === undefined
      ? "No sector has a scored holding."
      : `${portfolio!.sectors.length} sectors; the heaviest is ${heaviest.sector} at ${percent(heaviest.weight)} % of the weight, with ${
        waci > 0 ? percent(heaviest.waciContribution / waci) : 0
      } % of the WACI.`,
    spec
  )
}

const intervals = (report: ReportJson) => {
  const weight = weightOf(report)
  const shown = scoredOf(report)
    .slice()
    .sort((a, b) => weight(b) - weight(a) || a.ticker.localeCompare(b.ticker))
    .slice(0, MOST_HOLDINGS_CHARTED)
  const rows = shown.map((c) => ({
    ticker: c.ticker,
    score: c.score.value,
    low: c.score.interval.low,
    high: c.score.interval.high,
    rating: c.score.rating,
    group: ratingGroup(c.score.rating)
  }))
  const spec: TopLevelSpec = {
    width: 360,
    data: { values: rows },
    encoding: {
      y: { field: "ticker", type: "nominal", title: null, sort: { field: "score", order: "descending" } }
    },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2, color: "#57606a" },
        encoding: { x: { field: "low", type: "quantitative", title: "Score (0–10) and its 90 % interval", scale: { domain: [0, 10] } }, x2: { field: "high" } }
      },
      {
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "score", type: "quantitative" },
          color: { field: "group", type: "nominal", title: "Group", scale: { domain: ["leader", "average", "laggard"], range: Object.values(groupColors) } },
          shape: { field: "group", type: "nominal", scale: { domain: ["leader", "average", "laggard"], range: ["circle", "square", "triangle-down"] } }
        }
      },
      {
        mark: { type: "text", align: "left", dx: 6, fontSize: 10, color: "#1f2328" },
        encoding: { x: { field: "high", type: "quantitative" }, text: { field: "rating" } }
      }
    ]
  }
  const all = scoredOf(report).length
  return draw(
    "chart-intervals",
    "Each holding's score with its 90 % interval",
    rows.length === 0
      ? "No holding was scored."
      : `${rows.length === all ? `All ${all}` : `The ${rows.length} heaviest of ${all}`} scored holdings, scores from ${
        rows.reduce((low, r) => Math.min(low, r.score), 10).toFixed(1)
      } to ${rows.reduce((high, r) => Math.max(high, r.score), 0).toFixed(1)}.`,
    spec
  )
}

const timeline = (lanes: CallLanes, apiCalls: number) => {
  const rows = lanes.calls.map((call) => ({
    lane: `permit ${call.lane + 1}`,
    start: call.startMs / 1000,
    end: Math.max(call.endMs, call.startMs + 1) / 1000,
    source: call.source,
    ended: call.ended === "ok" ? "answered" : call.ended === "failed" ? "failed" : "cut off",
    ticker: call.ticker
  }))
  const cut = rows.filter((row) => row.ended !== "answered").length
  const spec: TopLevelSpec = {
    width: 440,
    data: { values: rows },
    mark: { type: "bar", cornerRadius: 2 },
    encoding: {
      y: { field: "lane", type: "nominal", title: null },
      // emissions in the upper half of a lane, governance in the lower: the source is told by place, not colour alone
      yOffset: { field: "source", sort: ["emissions", "governance"], scale: { domain: ["emissions", "governance"] } },
      x: { field: "start", type: "quantitative", title: "Seconds since the run's gate was set up" },
      x2: { field: "end" },
      color: { field: "source", type: "nominal", title: "Source", scale: { domain: ["emissions", "governance"], range: ["#0969da", "#bc4c00"] } },
      opacity: { field: "ended", type: "ordinal", title: "Call", sort: ["answered", "failed", "cut off"], scale: { domain: ["answered", "failed", "cut off"], range: [1, 0.55, 0.3] } },
      strokeDash: { field: "ended", type: "nominal", title: "Call", scale: { domain: ["answered", "failed", "cut off"], range: [[1, 0], [4, 2], [2, 2]] } },
      stroke: { value: "#1f2328" },
      strokeWidth: { value: 0.5 }
    }
  }
  return draw(
    "chart-timeline",
    "API calls on their permit lanes over time",
    `${rows.length < apiCalls ? `The first ${rows.length} of the run's ${apiCalls}` : rows.length} external calls on ${lanes.lanes} permit lanes (never more at once than there are lanes): ${
      rows.filter((row) => row.source === "emissions").length
    } to emissions, in the upper half of each lane, and ${rows.filter((row) => row.source === "governance").length} to governance, in the lower${
      cut === 0 ? "" : `; ${cut} failed or cut off by a deadline`
    }.`,
    spec
  )
}

/**
 * The report's charts, in the page's order: the rating mix by weight, the sectors (with a portfolio's figures),
 * each holding's score with its interval, and the calls on their permit lanes (when `calls` are given).
 *
 * @since 0.1.0
 */
export const renderCharts = (report: ReportJson, calls?: CallLanes): Effect.Effect<ReadonlyArray<Chart>, ChartError> =>
  Effect.all([
    ratingMix(report),
    ...(report.portfolio === undefined ? [] : [sectors(report)]),
    intervals(report),
    ...(calls === undefined || calls.calls.length === 0 ? [] : [timeline(calls, report.summary.apiCalls)])
  ])
