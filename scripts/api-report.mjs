/**
 * The public API's report, one file per entry point of the package
 * (`etc/api/*.api.md`), made from the built declarations by API Extractor:
 * a change to the surface shows in a diff. `--check` fails, naming the
 * entry point, when a report differs from what the code gives, or when a
 * public signature mentions a type the entry point does not export.
 */
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor"
import * as path from "node:path"
import ts from "typescript"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const check = process.argv.includes("--check")

const entries = {
  "esg-aggregator": "dist/index.d.ts",
  "esg-aggregator-team": "dist/team/Team.d.ts",
  "esg-aggregator-provider-server": "dist/provider-server/ProviderServer.d.ts",
  "esg-aggregator-testing": "dist/testing/index.d.ts"
}

/** What the package's root exports: a subpath's signatures may mention those, its users import them from the root. */
const rootExports = (() => {
  const program = ts.createProgram([path.join(root, entries["esg-aggregator"])], { skipLibCheck: true })
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(path.join(root, entries["esg-aggregator"])))
  return new Set(checker.getExportsOfModule(module).map((symbol) => symbol.name))
})()

let failed = 0
for (const [name, entry] of Object.entries(entries)) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: path.join(root, entry),
      compiler: { tsconfigFilePath: path.join(root, "tsconfig.build.json") },
      apiReport: {
        enabled: true,
        reportFileName: `${name}.api.md`,
        reportFolder: path.join(root, "etc/api"),
        reportTempFolder: path.join(root, "node_modules/.cache/api-report")
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: "warning" } },
        extractorMessageReporting: {
          default: { logLevel: "warning" },
          // a type a public signature mentions must be exported by the entry point
          "ae-forgotten-export": { logLevel: "error", addToApiReportFile: false },
          "ae-missing-release-tag": { logLevel: "none" },
          "ae-undocumented": { logLevel: "none" },
          // docs link constants of a module the entry point exports as a namespace
          "ae-unresolved-link": { logLevel: "none" },
          "ae-internal-missing-underscore": { logLevel: "none" }
        },
        tsdocMessageReporting: { default: { logLevel: "none" } }
      }
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: path.join(root, "package.json")
  })
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false, messageCallback: (message) => {
    // \`class X extends Context.Tag(...)<...>() {}\` declares its base as \`X_base\`: the class is what is exported
    const forgotten = message.messageId === "ae-forgotten-export" ? /The symbol "([^"]+)"/.exec(message.text)?.[1] : undefined
    const base = forgotten !== undefined && (forgotten.endsWith("_base") || (name !== "esg-aggregator" && rootExports.has(forgotten)))
    if (!base && (message.logLevel === "error" || message.logLevel === "warning")) {
      console.error(`${name}: ${message.text}${message.sourceFilePath ? ` (${path.relative(root, message.sourceFilePath)}:${message.sourceFileLine})` : ""}`)
      failed += message.logLevel === "error" ? 1 : 0
    }
    message.handled = true
  } })
  if (result.apiReportChanged) {
    console.error(`${name}: the API report differs from the code: run \`npm run api-report\` and review etc/api/${name}.api.md`)
    if (check) failed++
  }
}
if (failed > 0) process.exit(1)
