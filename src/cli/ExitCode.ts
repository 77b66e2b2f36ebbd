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
  /** A required resource is missing (database, worker pool, provider). */
  unavailable: 4
} as const
