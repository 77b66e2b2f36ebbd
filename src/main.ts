#!/usr/bin/env node
/**
 * The program's entry. Plain `--help` and `--version` (alone, or after a
 * command's name) are answered from text written at build time from the
 * same flag definitions (`dist/help.json`, see `scripts/build.mjs`): they
 * load no Effect module, and start about as fast as Node itself. Everything
 * else loads the bin (`Bin.ts`).
 *
 * @since 0.4.0
 */
import * as fs from "node:fs"

interface BuiltHelp {
  readonly version: string
  /** Per help topic, the text as printed: plain, and for a colour terminal. */
  readonly topics: Record<string, { readonly plain: string; readonly color: string }>
}

/** The text a plain `--help` or `--version` prints, or undefined for anything else. */
const quickAnswer = (args: ReadonlyArray<string>): string | undefined => {
  const help = (arg: string | undefined) => arg === "--help" || arg === "-h"
  const topic = args.length === 1 && help(args[0])
    ? "report"
    : args.length === 2 && (args[0] === "import" || args[0] === "serve-providers") && help(args[1])
    ? args[0]
    : undefined
  if (topic === undefined && !(args.length === 1 && args[0] === "--version")) return undefined
  const file = new URL("./help.json", import.meta.url)
  // not built (a source checkout run through a TypeScript loader): the bin answers
  if (!fs.existsSync(file)) return undefined
  const built = JSON.parse(fs.readFileSync(file, "utf8")) as BuiltHelp
  if (topic === undefined) return built.version
  const text = built.topics[topic]
  const noColor = process.env["NO_COLOR"]
  return text === undefined ? undefined : process.stdout.isTTY === true && (noColor === undefined || noColor === "") ? text.color : text.plain
}

const answer = quickAnswer(process.argv.slice(2))
if (answer === undefined) await import("./Bin.js")
else process.stdout.write(answer.endsWith("\n") ? answer : answer + "\n")
