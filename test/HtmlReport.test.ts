/**
 * The HTML report: the page the renderer writes, then the files the built
 * CLI writes opened in headless Chromium (Debian's, driven by playwright-core):
 * no console error or request, the figures equal the JSON report's of the
 * same run, markup in a name shown as text, no serious accessibility
 * violation, A4 print with the table's header on each page, and screenshots
 * at a laptop's and a phone's width under `test-output/html/`.
 */
import { AxeBuilder } from "@axe-core/playwright"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { Aggregator } from "../src/Aggregator.js"
import { escapeText } from "../src/HtmlCharts.js"
import { renderHtml } from "../src/HtmlReport.js"
import type { Rating } from "../src/Domain.js"
import { type ReportJson, type ScoredJson, toJson } from "../src/Report.js"
import { runBuiltCli } from "./fixtures/BuiltCli.js"
import { scenarioLayer, seedNames } from "./fixtures/Scenario.js"

const MARKUP = "<img src=x onerror=alert(1)> Apple"

/** The five seed companies run in virtual time, as the JSON report has them. */
const seedReport = Effect.gen(function*() {
  const aggregator = yield* Aggregator
  const fiber = yield* Effect.fork(aggregator.run([...seedNames, "Nonexistent Widgets"]))
  yield* TestClock.adjust("60 seconds")
  return toJson(yield* Fiber.join(fiber))
}).pipe(Effect.provide(scenarioLayer()))

describe("the HTML page, as written", () => {
  it.effect("one document with no script, no external reference, and a titled inline SVG per chart", () =>
    Effect.gen(function*() {
      const report = yield* seedReport
      const page = yield* renderHtml(report, { generatedAt: Date.UTC(2026, 11, 6, 9, 30) })
      assert.match(page, /^<!doctype html>\n<html lang="en">/)
      assert.strictEqual(page.match(/<\/html>/g)?.length, 1)
      assert.notMatch(page, /<script/i)
      assert.notMatch(page, /(src|href)\s*=/i)
      assert.include(page, "<title>ESG report: 6 companies, 2026-12-06</title>")
      // no portfolio view (a library's report): the rating mix and the intervals; no sectors, no calls were given
      const charts = [...page.matchAll(/<figure id="([^"]+)">.*?<svg[^>]*>\s*<title id="[^"]+">([^<]+)<\/title>/gs)].map((m) => [m[1], m[2]])
      assert.deepStrictEqual(charts, [
        ["chart-ratings", "Rating mix by weight"],
        ["chart-intervals", escapeText("Each holding's score with its 90 % interval")]
      ])
      for (const company of report.companies) {
        if (company.status === "scored") assert.include(page, `<tr data-ticker="${company.ticker}"><th scope="row">${company.ticker}</th>`)
      }
      assert.include(page, "Not in the universe: no company has this ticker or name.")
    }))

  it.effect("text from the data is escaped wherever it goes: a name, an input, a detail", () =>
    Effect.gen(function*() {
      const report = yield* seedReport
      const hostile: ReportJson = {
        ...report,
        companies: report.companies.map((company) =>
          company.status === "scored"
            ? { ...company, name: MARKUP, sector: "<i>Sector</i>" as ScoredJson["sector"] }
            : { ...company, input: "\"><script>alert(2)</script>", detail: "<b>bold</b> & 'quoted'" }
        )
      }
      const page = yield* renderHtml(hostile)
      assert.notInclude(page, "<img")
      assert.notInclude(page, "<script")
      assert.notInclude(page, "<b>bold")
      assert.notInclude(page, "<i>Sector")
      assert.include(page, "<td>&lt;i&gt;Sector&lt;/i&gt;</td>")
      assert.include(page, `<td>${escapeText(MARKUP)}</td>`)
      assert.include(page, `data-input="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"`)
      assert.include(page, "<td>&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;</td>")
    }))

  it.effect("a report with nothing scored is still a page, whose charts say there is nothing to show", () =>
    Effect.gen(function*() {
      const report = yield* seedReport
      const none: ReportJson = { ...report, companies: report.companies.filter((c) => c.status === "skipped") }
      const page = yield* renderHtml(none)
      assert.strictEqual([...page.matchAll(/<figcaption>No holding was scored\.<\/figcaption>/g)].length, 2)
      assert.include(page, "<caption id=\"holdings-caption\">0 scored companies")
      assert.include(page, "<tr data-input=\"Nonexistent Widgets\">")
    }))

  it.effect("a partial run says so, and a holding's rating since its previous score reads in words", () =>
    Effect.gen(function*() {
      const report = yield* seedReport
      const [first, second, third, fourth] = report.companies.filter((c) => c.status === "scored")
      const earlier = (rating: Rating) => ({ rating, value: 1, computedAt: "2026-11-01T00:00:00.000Z" })
      // AAPL was CCC, MSFT had its rating, META (BBB) was AAA, AMZN had no score before
      const previous = new Map([[first, earlier("CCC")], [second, earlier(second!.score.rating)], [third, earlier("AAA")], [fourth, null]])
      assert.deepStrictEqual([first!.score.rating !== "CCC", third!.score.rating !== "AAA"], [true, true])
      const changed: ReportJson = {
        ...report,
        summary: { ...report.summary, partial: true },
        companies: report.companies.map((company) => previous.has(company as ScoredJson) ? { ...company, previous: previous.get(company as ScoredJson)! } : company)
      }
      const page = yield* renderHtml(changed)
      assert.include(page, "partial: the run was stopped before every company finished")
      assert.include(page, "<h2 id=\"changes-heading\">Changes since the previous report</h2>")
      const row = (ticker: string) => page.slice(page.indexOf(`<tr data-ticker="${ticker}">`)).split("</tr>")[0]!
      assert.match(row(first!.ticker), /<td><span aria-hidden="true">▲<\/span> up from CCC<\/td>$/)
      assert.match(row(second!.ticker), new RegExp(`<td>same \\(${second!.score.rating}\\)</td>$`))
      assert.match(row(third!.ticker), /<td><span aria-hidden="true">▼<\/span> down from AAA<\/td>$/)
      assert.match(row(fourth!.ticker), /<td>first score<\/td>$/)
      assert.include(page, "2 of the 3 holdings scored before changed rating")
      // with no holding scored before, "first score" says nothing: no change is shown at all
      const plain = yield* renderHtml(report)
      assert.notInclude(plain, "first score")
      assert.notInclude(plain, "changes-heading")
    }))
})

// ---------------------------------------------------------------------------
// In a real browser
// ---------------------------------------------------------------------------

const CHROMIUM = "/usr/bin/chromium"
const SHOTS = path.resolve("test-output/html")
const FAST = ["--latency-emissions", "50ms", "--latency-governance", "50ms", "--db-latency", "0", "--samples", "2000", "--seed", "7"]
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esg-html-"))
const file = (name: string) => path.join(dir, name)

/** `node dist/main.js ARGS`, which must end with `code`. */
const cli = (args: ReadonlyArray<string>, code = 0) =>
  Effect.runPromise(Effect.map(runBuiltCli(args), (run) => {
    if (run.code !== code) throw new Error(`exit ${run.code} (expected ${code}) for ${args.join(" ")}: ${run.stderr.trim().split("\n").at(-1)}`)
    return run
  }))

/** 47 companies of the universe weighed 1 to 47, and three names it does not have: 50 holdings. */
const holdings = () => {
  const rows = fs.readFileSync("data/universe.csv", "utf8").trim().split("\n").slice(1, 48).map((line) => line.split(",")[0]!)
  const lines = [...rows.map((ticker, i) => `${ticker},${i + 1}`), "NOPE,3", "Nonexistent Widgets,2", "Acme <b>Holdings</b>,1"]
  return ["ticker,weight", ...lines].join("\n") + "\n"
}

interface Opened {
  readonly page: Page
  readonly errors: ReadonlyArray<string>
  readonly requests: ReadonlyArray<string>
  readonly dialogs: ReadonlyArray<string>
}

let browser: Browser | undefined
const opened: Array<Opened> = []

/** `html` opened at `width` px: what its console said, what it asked for, what dialogs it opened. */
const open = async (html: string, width = 1280): Promise<Opened> => {
  const context = await browser!.newContext({ viewport: { width, height: 900 } })
  const page = await context.newPage()
  const errors: Array<string> = []
  const requests: Array<string> = []
  const dialogs: Array<string> = []
  page.on("console", (message) => void (message.type() === "error" && errors.push(message.text())))
  page.on("pageerror", (error) => void errors.push(error.message))
  page.on("request", (request) => void requests.push(request.url()))
  page.on("requestfailed", (request) => void errors.push(`failed: ${request.url()}`))
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  await page.goto(`file://${html}`, { waitUntil: "load" })
  const result = { page, errors, requests, dialogs }
  opened.push(result)
  return result
}

/** The runs the browser tests open, made once: the seed companies, and a 50-holding portfolio (HTML and JSON). */
let runs: Promise<void> | undefined
const made = () =>
  runs ??= (async () => {
    await cli(["--format", "html", "--output", file("seed.html"), ...FAST])
    await cli(["--format", "json", "--output", file("seed.json"), ...FAST])
    fs.writeFileSync(file("holdings.csv"), holdings())
    // a dozen of the holdings scored before: each of the two runs below reads them from its own copy of the cache
    const tickers = holdings().split("\n").slice(1, 13).map((line) => line.split(",")[0]!)
    await cli(["--cache", file("warm.db"), ...FAST, ...tickers])
    fs.copyFileSync(file("warm.db"), file("html.db"))
    fs.copyFileSync(file("warm.db"), file("json.db"))
    await cli(["--input", file("holdings.csv"), "--cache", file("html.db"), "--format", "html", "--output", file("portfolio.html"), ...FAST], 3)
    await cli(["--input", file("holdings.csv"), "--cache", file("json.db"), "--format", "json", "--output", file("portfolio.json"), ...FAST], 3)
  })()

const numberIn = (text: string | null) => Number((text ?? "").replace(/[^0-9.-]/g, ""))

describe("the HTML page, in Chromium", () => {
  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    })
    await made()
  }, 120_000)
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.page.context().close()))
    await browser?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("opens with no console error, no request but its own file, and a titled SVG per chart", async () => {
    for (const [name, charts] of [["seed.html", 4], ["portfolio.html", 4]] as const) {
      const { dialogs, errors, page, requests } = await open(file(name))
      assert.deepStrictEqual(errors, [], name)
      assert.deepStrictEqual(requests, [`file://${file(name)}`], name)
      assert.deepStrictEqual(dialogs, [], name)
      assert.strictEqual(await page.locator("script").count(), 0)
      const titles = await page.locator(".charts figure").evaluateAll((figures) =>
        figures.map((figure) => figure.querySelector("svg > title")?.textContent ?? "no svg with a title")
      )
      assert.strictEqual(titles.length, charts, name)
      assert.deepStrictEqual(titles, ["Rating mix by weight", "Sectors: weight and share of the WACI", "Each holding's score with its 90 % interval", "API calls on their permit lanes over time"])
      assert.match(await page.title(), /^ESG report: \d+ companies, \d{4}-\d\d-\d\d$/)
    }
  })

  it("shows the figures the JSON report of the same run has: score, rating, WACI, coverage, each holding", async () => {
    for (const name of ["seed", "portfolio"]) {
      const json = JSON.parse(fs.readFileSync(file(`${name}.json`), "utf8")) as ReportJson
      const { page } = await open(file(`${name}.html`))
      const figure = (key: string) => page.locator(`[data-figure="${key}"]`).textContent()
      const portfolio = json.portfolio!
      assert.isFalse("withheld" in portfolio.score)
      if ("withheld" in portfolio.score) return
      assert.strictEqual(numberIn(await figure("score")), Number(portfolio.score.value.toFixed(2)), name)
      assert.strictEqual((await figure("rating"))?.split(" ")[0], portfolio.score.rating, name)
      assert.strictEqual(numberIn(await figure("waci")), Number(portfolio.waci!.value.toFixed(1)), name)
      assert.strictEqual(numberIn(await figure("coverage")), Number((portfolio.coverage.weight * 100).toFixed(1)), name)
      // each holding, item by item: the scored in the table, the skipped in theirs
      const rows = await page.locator("table.holdings tbody tr").evaluateAll((trs) =>
        trs.map((tr) => [
          tr.getAttribute("data-ticker"),
          tr.querySelector("[data-field=score]")?.textContent,
          tr.querySelector("[data-field=rating]")?.textContent?.split(" ")[0]
        ])
      )
      const scored = json.companies.flatMap((c) => (c.status === "scored" ? [[c.ticker, c.score.value.toFixed(2), c.score.rating]] : []))
      assert.deepStrictEqual(rows, scored, name)
      const skipped = await page.locator("table.skipped tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-input")))
      assert.deepStrictEqual(skipped, json.companies.flatMap((c) => (c.status === "skipped" ? [c.input] : [])), name)
    }
    // the portfolio's run: some cached, some skipped, weights from the file
    const json = JSON.parse(fs.readFileSync(file("portfolio.json"), "utf8")) as ReportJson
    assert.strictEqual(json.companies.length, 50)
    assert.strictEqual(json.summary.skipped, 3)
    assert.isAbove(json.summary.cached, 0)
    const { page } = await open(file("portfolio.html"))
    assert.strictEqual(await page.locator("table.holdings tbody tr td", { hasText: /^cached \d{4}-/ }).count(), json.summary.cached)
    assert.include(await page.locator("table.skipped").textContent(), "Acme <b>Holdings</b>")
  })

  it("an imported name with markup shows as text and runs nothing", async () => {
    const rows = fs.readFileSync("data/universe.csv", "utf8").split("\n")
    rows[1] = rows[1]!.replace("Apple Inc.", `"${MARKUP}"`)
    fs.writeFileSync(file("marked.csv"), rows.join("\n"))
    await cli(["import", file("marked.csv"), "--db", file("marked.db")])
    await cli(["--db", file("marked.db"), "--format", "html", "--output", file("marked.html"), ...FAST, "AAPL"])
    const { dialogs, errors, page } = await open(file("marked.html"))
    assert.deepStrictEqual(await page.locator("tr[data-ticker=AAPL] td").first().textContent(), MARKUP)
    assert.strictEqual(await page.locator("img").count(), 0)
    assert.deepStrictEqual(dialogs, [])
    assert.deepStrictEqual(errors, [])
  })

  it("has no serious or critical accessibility violation, at a laptop's width or a phone's", async () => {
    for (const width of [1280, 390]) {
      const { page } = await open(file("portfolio.html"), width)
      const results = await new AxeBuilder({ page }).analyze()
      const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      assert.deepStrictEqual(serious.map((v) => `${v.id}: ${v.nodes.length} (${v.help})`), [], `at ${width} px`)
      // a phone scrolls the table inside its frame, never the page sideways
      assert.isAtMost(await page.evaluate<number>("document.documentElement.scrollWidth"), width, `at ${width} px`)
    }
  })

  it("prints to A4 pages, the holdings table's header on each page it spans", async () => {
    const { page } = await open(file("portfolio.html"))
    const pdf = file("portfolio.pdf")
    await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true })
    const info = spawnSync("pdfinfo", [pdf], { encoding: "utf8" }).stdout
    // A4 is 595.28 x 841.89 points: Chromium rounds its size to whole pixels
    const size = /Page size:\s+([\d.]+) x ([\d.]+) pts \(A4\)/.exec(info)
    assert.isNotNull(size, info)
    assert.approximately(Number(size![1]), 595.28, 1)
    assert.approximately(Number(size![2]), 841.89, 1)
    const pages = spawnSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" }).stdout.split("\f").filter((text) => text.trim() !== "")
    const json = JSON.parse(fs.readFileSync(file("portfolio.json"), "utf8")) as ReportJson
    const tickers = json.companies.flatMap((c) => (c.status === "scored" ? [c.ticker] : []))
    // the pages the holdings run over: those with a holding's row (its ticker, then its data quality on that line)
    const spanned = pages.filter((text) => tickers.some((ticker) => new RegExp(`^\\s*${ticker.replace(/\./g, "\\.")}\\s.*PCAF`, "m").test(text)))
    assert.isAtLeast(spanned.length, 2)
    for (const text of spanned) assert.match(text, /Ticker\s+Name\s+Sector\s+Weight/)
  })

  it("screenshots at 1280 px and 390 px, for a person to look at", async () => {
    for (const [name, width] of [["portfolio-1280.png", 1280], ["portfolio-390.png", 390], ["seed-1280.png", 1280]] as const) {
      const { page } = await open(file(name.startsWith("seed") ? "seed.html" : "portfolio.html"), width)
      const shot = path.join(SHOTS, name)
      await page.screenshot({ path: shot, fullPage: true })
      assert.isAbove(fs.statSync(shot).size, 20_000, name)
    }
    // the README's picture, when asked for
    if (process.env["UPDATE_SCREENSHOT"] === "1") fs.copyFileSync(path.join(SHOTS, "seed-1280.png"), "docs/html-report.png")
  })
})
