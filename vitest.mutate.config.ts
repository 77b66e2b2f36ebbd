import { defineConfig } from "vitest/config"

/**
 * Vitest config for mutation testing (`npm run mutate`, see stryker.config.json).
 *
 * Only the fast unit / virtual-time (TestClock) test files: they import from
 * src/ directly, so no build is needed. The process, worker-thread, HTTP and
 * database tests are left out: they need dist/ (the `pretest` build) and are
 * too slow to run once per mutant.
 */
export default defineConfig({
  test: {
    include: [
      "test/Aggregator.test.ts",
      "test/ApiGate.test.ts",
      "test/IndexCache.test.ts",
      "test/RetryPolicy.test.ts",
      "test/Admission*.test.ts",
      "test/CompanyRun*.test.ts",
      "test/Deadline*.test.ts"
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the property tests' runs, per mutant: enough to find the counterexamples a mutant makes common
    env: { ESG_PROPERTY_RUNS: "12" }
  }
})
