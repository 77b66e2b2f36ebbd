import { defineConfig } from "vitest/config"

/**
 * The program's own logs (logfmt lines: skips, retries, crashed workers) are
 * expected in tests that provoke them; a test that depends on them captures
 * them (`makeLogCapture`) and asserts on them. Printed, they would read as
 * failures, so they are dropped here; a FATAL log, and anything else a test
 * prints, still shows.
 */
const programLog = /^timestamp=\S+ level=(TRACE|DEBUG|INFO|WARN|ERROR) /

export default defineConfig({
  // the examples import the package by its name, as a user's code does
  resolve: {
    alias: [
      { find: /^esg-aggregator$/, replacement: new URL("./src/index.ts", import.meta.url).pathname },
      { find: /^esg-aggregator\/testing$/, replacement: new URL("./src/testing/index.ts", import.meta.url).pathname }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    onConsoleLog: (log) => (programLog.test(log) ? false : undefined)
  }
})
