/**
 * The process's exit codes, documented in the README.
 *
 * @since 0.2.0
 */
export const ExitCode = {
  /** Every company scored (or a subcommand succeeded). */
  ok: 0,
  /** Anything unexpected. */
  failure: 1,
  /** A usage error: one line on stderr naming what was wrong. */
  usage: 2,
  /** The report was produced, but some companies were skipped. */
  partial: 3,
  /** A required resource is missing or refused (database, worker pool, provider, API key). */
  unavailable: 4,
  /** Stopped by SIGINT (Ctrl-C), after the partial report: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM, after the partial report: 128 + 15. */
  terminated: 143
} as const
