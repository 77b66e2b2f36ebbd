/**
 * The report as one self-contained HTML page, for people a report is
 * handed on to: the run's facts, the portfolio's figures, charts (inline
 * SVG, `HtmlCharts.ts`), the holdings, what was skipped and what changed.
 * No script, no request: styles and charts are inline, and the page's
 * Content-Security-Policy forbids anything else. Every text that comes from
 * data is escaped by the `html` template, which is the only way markup is
 * written here.
 *
 * The design: docs/design.md#srchtmlreportts
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { type Rating, ratings } from "./Domain.js"
import { type CallLanes, type Chart, type ChartError, escapeText, ratingGroup, renderCharts } from "./HtmlCharts.js"
import type { CompanyJson, ReportJson, ScoredJson, SkippedJson } from "./Report.js"

export {
  /**
   * The calls on their permit lanes a page's timeline draws.
   *
   * @since 0.1.0
   */
  type CallLanes,
  /**
   * A chart Vega could not draw.
   *
   * @since 0.1.0
   */
  ChartError
} from "./HtmlCharts.js"

/** Markup already escaped: what `html` returns, and the only value it writes unescaped. */
class Markup {
  constructor(readonly text: string) {}
  toString() {
    return this.text
  }
}

type Part = Markup | string | number | null | undefined | ReadonlyArray<Markup>

const partText = (part: Part): string =>
  part instanceof Markup
    ? part.text
    : Array.isArray(part)
    ? part.map((item: Markup) => item.text).join("")
    : part == null
    ? ""
    : escapeText(String(part))

/** Markup with every interpolated value escaped (but markup made by `html` itself). */
const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<Part>): Markup =>
  new Markup(strings.reduce((out, string, i) => out + string + (i < parts.length ? partText(parts[i]) : ""), ""))

/**
 * What the page says besides the report: when the run started (the page's date), and the calls on their permit
 * lanes for the timeline chart.
 *
 * @since 0.1.0
 */
export interface HtmlOptions {
  /** When the run started, in ms since the epoch: the page's date. */
  readonly generatedAt?: number | undefined
  /** The calls on their permit lanes (a run with `--timeline`, or `Timeline.recording`): drawn when given. */
  readonly calls?: CallLanes | undefined
}

const pct = (fraction: number) => `${(fraction * 100).toFixed(1)} %`
/** `value` to `digits` decimals, as the other formats round it (`toFixed`), with thousands separated. */
const fixed = (value: number, digits: number) => value.toFixed(digits).replace(/^(-?\d+)/, (whole) => whole.replace(/\B(?=(\d{3})+$)/g, ","))
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`

/** A rating as a badge: its letters, coloured by group, with the group in words for a reader who sees no colour. */
const badge = (rating: Rating) =>
  html`<span class="badge ${ratingGroup(rating)}">${rating}<span class="visually-hidden"> (${ratingGroup(rating)})</span></span>`

const shareText = (share: { readonly weight: number; readonly holdings: number }, holdings: number) =>
  `${pct(share.weight)} of the weight, ${Math.round(share.holdings * holdings)} of ${holdings} holdings`

const runFacts = (report: ReportJson, options: HtmlOptions) => {
  const s = report.summary
  const date = options.generatedAt === undefined ? undefined : new Date(options.generatedAt).toISOString()
  const facts: ReadonlyArray<readonly [string, Markup | string]> = [
    ...(date === undefined ? [] : [["Date", html`<time datetime="${date}">${date.slice(0, 16).replace("T", " ")} UTC</time>`] as const]),
    ["Companies", `${s.requested} requested: ${s.scored} scored, ${s.skipped} skipped${s.cached > 0 ? `, ${s.cached} from the cache` : ""}`],
    ["Status", s.partial ? `partial: the run was stopped before every company finished${s.gateLost === undefined ? "" : ` (${s.gateLost})`}` : "complete"],
    ["Sources", `fundamentals ${s.sources.fundamentals}; emissions ${s.sources.emissions}; governance ${s.sources.governance}`],
    ["Schedule", `${s.schedule}; scoring on ${s.scoring}`],
    ["Quota", `at most ${s.apiConcurrency} external API calls in flight (${s.gate}); most seen at once ${s.maxApiCallsInFlight}`],
    ["Deadline", `${seconds(s.timeoutMs)} per company for its data`],
    ["Elapsed", `${seconds(s.elapsedMs)}, ${s.apiCalls} API calls`],
    ["Cache", s.cache]
  ]
  return html`<section aria-labelledby="run-heading">
<h2 id="run-heading">The run</h2>
<dl class="facts">${facts.map(([term, value]) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`)}</dl>
</section>`
}

/** The coverage's skip codes in a few words. */
const skipWords: Readonly<Record<string, string>> = {
  "unknown-company": "not in the universe",
  "data-incomplete": "data late",
  "provider-failed": "a provider failed",
  "scoring-failed": "scoring failed",
  "internal-error": "an internal error",
  "not-run": "not run (the run was stopped)"
}

const figureCard = (title: string, value: Markup | string, what: string, detail?: string) =>
  html`<div class="figure"><h3>${title}</h3><p class="value">${value}</p><p class="what">${what}</p>${
    detail === undefined ? "" : html`<p class="detail">${detail}</p>`
  }</div>`

const portfolioFigures = (report: ReportJson) => {
  const f = report.portfolio
  if (f === undefined) return html``
  const n = f.holdings
  const cards: Array<Markup> = []
  cards.push(
    "withheld" in f.score
      ? figureCard("Score", "withheld", "The weighted average of the scored holdings' ESG scores (0–10).", f.score.withheld)
      : figureCard(
        "Score",
        html`<span data-figure="score">${fixed(f.score.value, 2)}</span> <span data-figure="rating">${badge(f.score.rating)}</span>`,
        "The weighted average of the scored holdings' ESG scores (0–10) and its rating.",
        `${f.score.interval === null ? "No interval (no Monte Carlo draws)" : `90 % interval ${fixed(f.score.interval.low, 2)}–${fixed(f.score.interval.high, 2)}`}; on ${
          shareText(f.score.coverage, n)
        }.`
      )
  )
  cards.push(figureCard(
    "WACI",
    f.waci === null ? "–" : html`<span data-figure="waci">${fixed(f.waci.value, 1)}</span> <small>tCO2e / $M revenue</small>`,
    "Weighted average carbon intensity: each holding's scope 1 and 2 emissions per $M of revenue, weighted by the holding.",
    f.waci === null ? "No holding was scored." : `On ${shareText(f.waci.coverage, n)}.`
  ))
  if (f.financedEmissions !== null) {
    cards.push(figureCard(
      "Financed emissions",
      html`<span data-figure="financed">${fixed(f.financedEmissions.value, 0)}</span> <small>tCO2e</small>`,
      "The emissions the portfolio finances: each holding's value over the company's value, times its emissions.",
      `Attributed by ${f.financedEmissions.attribution}; on ${shareText(f.financedEmissions.coverage, n)}.`
    ))
  }
  if (f.carbonFootprint !== null) {
    cards.push(figureCard(
      "Carbon footprint",
      html`<span data-figure="footprint">${fixed(f.carbonFootprint.value, 2)}</span> <small>tCO2e / $M invested</small>`,
      "Financed emissions per $M invested in the covered holdings.",
      `On ${shareText(f.carbonFootprint.coverage, n)}.`
    ))
  }
  const skipped = Object.entries(f.coverage.skipped)
  cards.push(figureCard(
    "Coverage",
    html`<span data-figure="coverage">${pct(f.coverage.weight)}</span> <small>of the weight scored</small>`,
    "How much of the portfolio the figures above rest on.",
    `Scored ${shareText(f.coverage, n)}; from the cache ${shareText(f.coverage.cached, n)}${
      skipped.length === 0 ? "" : `; skipped: ${skipped.map(([code, share]) => `${skipWords[code] ?? code} ${shareText(share, n)}`).join(", ")}`
    }.`
  ))
  if (f.dataQuality !== null) {
    cards.push(figureCard(
      "Data quality",
      html`<span data-figure="quality">${fixed(f.dataQuality.value, 2)}</span> <small>PCAF score</small>`,
      "The emissions data's quality on the PCAF scale: 1 reported and verified, 5 estimated from sector averages.",
      Object.entries(f.dataQuality.grades).filter(([, share]) => share > 0).map(([grade, share]) => `grade ${grade}: ${pct(share)} of the weight`).join(", ")
    ))
  }
  return html`<section aria-labelledby="portfolio-heading">
<h2 id="portfolio-heading">The portfolio</h2>
<p>${n} holdings; ${
    f.basis === "equal"
      ? "every holding weighs the same"
      : f.basis === "value"
      ? `weighed by value, $${fixed(f.weightSum, 0)} in all`
      : `weighed by the holdings file's ${f.basis === "percent" ? "percentages" : "fractions"}`
  }.</p>
<div class="figures">${cards}</div>
</section>`
}

const chartsSection = (charts: ReadonlyArray<Chart>) =>
  html`<section aria-labelledby="charts-heading">
<h2 id="charts-heading">Charts</h2>
<div class="charts">${
    charts.map((chart) =>
      html`<figure id="${chart.id}"><h3>${chart.title}</h3>${new Markup(chart.svg)}<figcaption>${chart.summary}</figcaption></figure>`
    )
  }</div>
</section>`

/**
 * A holding's rating since its previous stored score, in words (and an arrow for the eye); "first score" only
 * beside holdings that had one before (`compared`).
 */
const changeOf = (company: ScoredJson, compared = true): Markup | string => {
  const previous = company.previous
  if (previous === undefined) return "–"
  if (previous === null) return compared ? "first score" : "–"
  const now = ratings.indexOf(company.score.rating)
  const before = ratings.indexOf(previous.rating)
  return now === before
    ? `same (${previous.rating})`
    : html`<span aria-hidden="true">${now > before ? "▲" : "▼"}</span> ${now > before ? "up" : "down"} from ${previous.rating}`
}

const weightText = (company: CompanyJson) => (company.weight === undefined ? "–" : pct(company.weight))

const holdingsTable = (report: ReportJson, scored: ReadonlyArray<ScoredJson>) => {
  const compared = scored.some((c) => c.previous != null)
  const columns = ["Ticker", "Name", "Sector", "Weight", "E", "G", "Score", "Rating", "90 % interval", "Rating holds", "Data quality", "Data", "Change"]
  const rows = scored.map((c) =>
    html`<tr data-ticker="${c.ticker}"><th scope="row">${c.ticker}</th><td>${c.name}</td><td>${c.sector}</td><td class="num">${weightText(c)}</td><td class="num">${
      fixed(c.score.environmental, 1)
    }</td><td class="num">${fixed(c.score.governance, 1)}</td><td class="num" data-field="score">${fixed(c.score.value, 2)}</td><td data-field="rating">${
      badge(c.score.rating)
    }</td><td class="num">${fixed(c.score.interval.low, 1)}–${fixed(c.score.interval.high, 1)}</td><td class="num">${pct(c.score.stability)}</td><td>${
      c.dataQuality === undefined ? "–" : `PCAF ${c.dataQuality}`
    }</td><td>${c.cached ? `cached${c.cachedAt === undefined ? "" : ` ${c.cachedAt.slice(0, 10)}`}` : "fetched"}</td><td>${changeOf(c, compared)}</td></tr>`
  )
  return html`<section aria-labelledby="holdings-heading">
<h2 id="holdings-heading">Holdings</h2>
<p class="note">Scores run from 0 to 10; E and G are the environmental and governance pillars; "rating holds" is the chance the rating stays the same within the score's uncertainty.</p>
<div class="table-wrap" role="region" aria-labelledby="holdings-caption" tabindex="0">
<table class="holdings">
<caption id="holdings-caption">${scored.length} scored ${scored.length === 1 ? "company" : "companies"}${
    report.summary.skipped > 0 ? ` (${report.summary.skipped} skipped, listed below)` : ""
  }</caption>
<thead><tr>${columns.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
<tbody>${rows}</tbody>
</table>
</div>
</section>`
}

/** Why a company was skipped, in plain words. */
const reasonWords = (company: SkippedJson): string => {
  const missing = company.missing.join(", ")
  switch (company.reasonCode) {
    case "unknown-company":
      return "Not in the universe: no company has this ticker or name."
    case "data-incomplete":
      return `Its data did not all arrive within the deadline (missing: ${missing}).`
    case "provider-failed":
      return `A data provider failed for it (missing: ${missing}).`
    case "scoring-failed":
      return "Its data arrived but could not be scored."
    default:
      return company.reason
  }
}

const skippedSection = (skipped: ReadonlyArray<SkippedJson>) =>
  skipped.length === 0 ? html`` : html`<section aria-labelledby="skipped-heading">
<h2 id="skipped-heading">Skipped</h2>
<div class="table-wrap" role="region" aria-labelledby="skipped-caption" tabindex="0">
<table class="skipped">
<caption id="skipped-caption">${skipped.length} ${skipped.length === 1 ? "company" : "companies"} without a score, and why</caption>
<thead><tr><th scope="col">Input</th><th scope="col">Ticker</th><th scope="col">Weight</th><th scope="col">Why</th><th scope="col">Detail</th></tr></thead>
<tbody>${
    skipped.map((c) =>
      html`<tr data-input="${c.input}"><th scope="row">${c.input}</th><td>${c.ticker ?? "–"}</td><td class="num">${weightText(c)}</td><td>${reasonWords(c)}</td><td>${
        c.detail ?? ""
      }</td></tr>`
    )
  }</tbody>
</table>
</div>
</section>`

const changesSection = (report: ReportJson, scored: ReadonlyArray<ScoredJson>) => {
  const moved = scored.filter((c) => c.previous != null && c.previous.rating !== c.score.rating)
  const compared = scored.filter((c) => c.previous != null).length
  const before = report.portfolio?.previousRun ?? null
  if (compared === 0 && before === null) return html``
  const f = report.portfolio
  return html`<section aria-labelledby="changes-heading">
<h2 id="changes-heading">Changes since the previous report</h2>
${
    before === null || f === undefined ? "" : html`<p>The same holdings on ${before.at.slice(0, 10)}: WACI ${
      before.waci === null ? "–" : fixed(before.waci, 1)
    } → ${f.waci === null ? "–" : fixed(f.waci.value, 1)}; score ${before.score === null ? "withheld" : `${fixed(before.score, 2)} ${before.rating}`} → ${
      "withheld" in f.score ? "withheld" : `${fixed(f.score.value, 2)} ${f.score.rating}`
    }; coverage ${pct(before.coverage)} → ${pct(f.coverage.weight)}.</p>`
  }
${
    compared === 0 ? "" : moved.length === 0
      ? html`<p>No rating changed among the ${compared} holdings scored before.</p>`
      : html`<p>${moved.length} of the ${compared} holdings scored before changed rating:</p>
<ul class="changes">${
        moved.map((c) =>
          html`<li><strong>${c.ticker}</strong> ${c.name}: ${changeOf(c)} to ${badge(c.score.rating)} (previous score ${
            fixed(c.previous!.value, 2)
          } on ${c.previous!.computedAt.slice(0, 10)})</li>`
        )
      }</ul>`
  }
</section>`
}

const STYLE = `
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: white; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
.lede { color: var(--muted); margin: 0; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .5rem 1.5rem; margin: 0; }
.facts div { border-left: 3px solid var(--line); padding-left: .6rem; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.figure .value { font-size: 1.6rem; font-weight: 650; margin: 0; }
.figure .value small { font-size: .8rem; font-weight: 400; color: var(--muted); }
.figure .what, .figure .detail { margin: .25rem 0 0; font-size: .85rem; }
.figure .what { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); gap: 1.5rem; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: var(--muted); }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; position: relative; }
.table-wrap:focus { outline: 2px solid #0969da; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
caption { text-align: left; padding: .5rem .75rem; color: var(--muted); caption-side: top; white-space: nowrap; }
.note { color: var(--muted); font-size: .9rem; margin: 0 0 .5rem; }
th, td { padding: .35rem .45rem; border-top: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--panel); white-space: nowrap; }
tbody th { white-space: nowrap; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 2.6rem; text-align: center; font-weight: 650; border-radius: 999px; padding: 0 .5rem; border: 1px solid currentColor; }
.badge.leader { background: #dafbe1; color: #116329; }
.badge.average { background: #fff8c5; color: #6f4b00; }
.badge.laggard { background: #ffebe9; color: #a40e26; }
.changes { padding-left: 1.2rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
footer { color: var(--muted); font-size: .8rem; padding: 2rem 1rem; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  .figure .value { font-size: 1.3rem; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 9.5pt; }
  header, main, footer { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .figure, figure, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; border: none; }
  thead { display: table-header-group; }
  .charts { grid-template-columns: 1fr 1fr; }
  .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`

/**
 * The report as one self-contained HTML page (a string): the run's facts, the portfolio's figures (with a
 * portfolio's report), the charts, the holdings, the skipped companies and the changes since the previous report.
 * It takes the report as the JSON report has it (`Report.toJson`, or a kept one read by `Report.decodeReportJson`),
 * so that the page and the JSON say the same. Vega is loaded on the first call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HtmlReport, Report } from "esg-aggregator"
 *
 * // a kept JSON report as a page
 * export const page = (kept: string) => Effect.flatMap(Report.decodeReportJson(kept), (report) => HtmlReport.renderHtml(report))
 * ```
 *
 * @since 0.1.0
 */
export const renderHtml = (report: ReportJson, options: HtmlOptions = {}): Effect.Effect<string, ChartError> =>
  Effect.map(renderCharts(report, options.calls), (charts) => {
    const scored = report.companies.filter((c): c is ScoredJson => c.status === "scored")
    const skipped = report.companies.filter((c): c is SkippedJson => c.status === "skipped")
    const date = options.generatedAt === undefined ? "" : `, ${new Date(options.generatedAt).toISOString().slice(0, 10)}`
    const title = `ESG report: ${report.summary.requested} ${report.summary.requested === 1 ? "company" : "companies"}${date}`
    const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
<header>
<h1>ESG report</h1>
<p class="lede">${report.summary.scored} of ${report.summary.requested} companies scored${date}${report.summary.partial ? " (partial run)" : ""}.</p>
</header>
<main>
${runFacts(report, options)}
${portfolioFigures(report)}
${chartsSection(charts)}
${holdingsTable(report, scored)}
${skippedSection(skipped)}
${changesSection(report, scored)}
</main>
<footer>Written by esg-aggregator. Sources are named by where their data came from; no key is ever shown.</footer>
</body>
</html>
`
    return page.text
  })
