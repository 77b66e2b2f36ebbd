/**
 * A request to stop from outside: SIGINT (Ctrl-C) or SIGTERM. The bin
 * (`main.ts`) turns the process's first signal into a request; the report
 * command answers it by ending its run early and printing the partial
 * report, the other commands by stopping. The exit code says which signal
 * it was (130 for SIGINT, 143 for SIGTERM).
 *
 * @since 0.3.0
 */
import { Context, Deferred, type Duration, Effect, FiberId } from "effect"
import { ExitCode } from "./ExitCode.js"

export type StopSignal = "SIGINT" | "SIGTERM"

export const exitCodeOf = (signal: StopSignal): number => signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated

export interface ShutdownService {
  /** Completes with the signal once a stop is requested; never without one. */
  readonly requested: Effect.Effect<StopSignal>
}

/** By default nothing ever asks to stop (in-process use, tests). */
export class Shutdown extends Context.Reference<Shutdown>()("esg-aggregator/Shutdown", {
  defaultValue: (): ShutdownService => ({ requested: Effect.never })
}) {
  /**
   * A shutdown requested by calling `request` (from a signal handler, outside
   * any fiber): true for the first request, false for any later one.
   */
  static readonly unsafeMake = () => {
    const signal = Deferred.unsafeMake<StopSignal>(FiberId.none)
    let requested = false
    return {
      service: Shutdown.of({ requested: Deferred.await(signal) }),
      request: (received: StopSignal): boolean => {
        if (requested) return false
        requested = true
        Deferred.unsafeDone(signal, Effect.succeed(received))
        return true
      }
    }
  }
}

/**
 * Runs `effect` until a stop is requested, then gives it `grace` to finish
 * by itself (the report prints what finished in that time) before it is
 * interrupted; the result is then the signal's exit code.
 */
export const untilShutdown = <E, R>(effect: Effect.Effect<number, E, R>, grace: Duration.DurationInput = 0) =>
  Effect.flatMap(Shutdown, (shutdown) =>
    Effect.raceFirst(
      effect,
      Effect.map(Effect.zipLeft(shutdown.requested, Effect.sleep(grace)), exitCodeOf)
    ))
