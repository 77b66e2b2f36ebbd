/**
 * The mission's numbers, written once: two external calls in flight, a 2 s
 * data deadline, and the three sources' latencies. `App` builds its default
 * configuration from them, the simulated sources default to them, and the
 * CLI's flags show them as defaults.
 *
 * @since 0.2.0
 */
import { Duration } from "effect"

/**
 * The mission's defaults: 2 external calls in flight, a 2 s deadline per company, the sources' latencies (800, 1200, 1000 ms), the five notebook companies.
 *
 * @since 0.1.0
 */
export const Scenario = {
  /** External API calls allowed in flight at once. */
  permits: 2,
  /** How long a company's data may take, from its first request. */
  timeout: Duration.seconds(2),
  latency: {
    /** The internal database: a blocking lookup. */
    fundamentals: Duration.millis(800),
    /** The external carbon-emissions API. */
    emissions: Duration.millis(1200),
    /** The partner governance API. */
    governance: Duration.millis(1000)
  },
  /** The five companies of the original notebook. */
  companies: ["Apple", "Microsoft", "Meta", "Amazon", "Tesla"]
} as const
