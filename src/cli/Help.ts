/**
 * The help text of each command, written from the same flag definitions the
 * parser uses (`Flags.ts`): what each option does, its default and its
 * environment variable. Plain text in a pipe or a file; on a terminal without
 * `NO_COLOR`, headings and option names in bold.
 *
 * @since 0.3.0
 */
import { bold, plain, type Style } from "../internal/Ansi.js"
import { Scenario } from "../Scenario.js"
import type { FlagDoc } from "./Flags.js"
import { reportFlagSet, docsOf } from "./Flags.js"
import { logLevels } from "./Globals.js"
import { importFlagDocs } from "./ImportCommand.js"
import { serveFlagDocs } from "./ServeCommand.js"

export type HelpTopic = "report" | "import" | "serve-providers" | "diff"

const option = (emphasis: Style) => (doc: FlagDoc): string => {
  const extras = [
    doc.fallback === undefined ? undefined : `default: ${doc.fallback}`,
    doc.env === undefined ? undefined : `env ${doc.env}`
  ].filter((extra) => extra !== undefined)
  return `  ${emphasis(doc.usage)}\n      ${doc.description}${extras.length === 0 ? "" : ` (${extras.join("; ")})`}`
}

const globals: ReadonlyArray<FlagDoc> = [
  { usage: "--log-level LEVEL", description: `the least level logged on stderr: ${logLevels.join(", ")}`, fallback: "info" },
  { usage: "--log-format FORMAT", description: "the logs' format on stderr: pretty, json or logfmt", fallback: "pretty on a terminal, else logfmt" },
  { usage: "--completions SHELL", description: "prints a completion script for bash, fish, sh or zsh" },
  { usage: "--help, -h", description: "this text" },
  { usage: "--version", description: "the version" }
]

const exitCodes = [
  "Exit codes: 0 every company scored; 3 the report was printed, some companies skipped;",
  "2 usage error; 4 a required resource is missing or refused (database, workers, provider key);",
  "1 unexpected failure; 130 interrupted (SIGINT), 143 terminated (SIGTERM), after the partial report."
]

const topics: Record<HelpTopic, { readonly usage: string; readonly about: ReadonlyArray<string>; readonly flags: ReadonlyArray<FlagDoc> }> = {
  report: {
    usage: "esg-aggregator [COMPANY...] [options]",
    about: [
      "Builds an ESG report: fundamentals, emissions and governance per company, scored and cached.",
      `Companies are tickers or names, case-insensitive (default: ${Scenario.companies.join(" ")}).`
    ],
    flags: docsOf(reportFlagSet)
  },
  import: {
    usage: "esg-aggregator import CSV --db FILE [--synthetic]",
    about: [
      "Loads a CSV with the header of data/universe.csv into a new universe database.",
      "Every field is checked; a bad row is one line naming its line and field, and the database is left untouched."
    ],
    flags: importFlagDocs
  },
  "serve-providers": {
    usage: "esg-aggregator serve-providers [options]",
    about: ["Serves the emissions and governance APIs locally, with optional fault injection."],
    flags: serveFlagDocs
  },
  diff: {
    usage: "esg-aggregator diff OLD.json NEW.json",
    about: [
      "Compares two JSON reports: ratings up and down, holdings added and removed, the portfolio's figures side by side.",
      "Exit codes: 0 no rating moved down; 3 some rating moved down; 2 a file is not a JSON report."
    ],
    flags: []
  }
}

/** The help of `topic`, for `--help`; `color` only where colour is allowed. */
export const helpText = (topic: HelpTopic, version: string, options: { readonly color?: boolean } = {}): string => {
  const { about, flags, usage } = topics[topic]
  const emphasis = options.color === true ? bold : plain
  return [
    `esg-aggregator ${version}`,
    "",
    `${emphasis("Usage:")} ${usage}`,
    ...(topic === "report"
      ? ["       esg-aggregator import CSV --db FILE", "       esg-aggregator serve-providers [options]", "       esg-aggregator diff OLD.json NEW.json"]
      : []),
    "",
    ...about,
    "",
    emphasis("Options:"),
    ...flags.map(option(emphasis)),
    "",
    emphasis("Global options (anywhere on the line):"),
    ...globals.map(option(emphasis)),
    "",
    ...exitCodes
  ].join("\n")
}
