/**
 * The Monte Carlo simulation as an interruptible effect: the model's
 * sampling (`ScoreModel.makeSimulation`) run in chunks, yielding between
 * them. Shared by the inline scorer and the worker threads; it imports no
 * pool and no platform, so a worker's bundle holds only what it runs.
 *
 * @since 0.4.0
 */
import { Effect } from "effect"
import type { Score, ScoreInput } from "./Domain.js"
import { ScoringError } from "./Domain.js"
import { makeSimulation, type PeerStats, type SimulationOptions } from "./ScoreModel.js"

/** Samples drawn between two yields, so that an interrupt lands within a few milliseconds. */
export const CHUNK_SAMPLES = 20_000

/**
 * Runs the simulation in chunks, running `yieldBetween` after each chunk.
 * On a worker `yieldBetween` is a macrotask, so the worker's message loop
 * sees an interrupt and the fiber really stops.
 */
export const simulate = (
  peers: PeerStats,
  input: ScoreInput,
  options: SimulationOptions,
  yieldBetween: Effect.Effect<void>
): Effect.Effect<Score, ScoringError> =>
  Effect.suspend(() => {
    const simulation = makeSimulation(peers, input, options)
    const loop: Effect.Effect<Score> = Effect.suspend(() =>
      simulation.step(CHUNK_SAMPLES) ? Effect.zipRight(yieldBetween, loop) : Effect.sync(simulation.result)
    )
    return loop
  }).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.fail(new ScoringError({ ticker: input.fundamentals.ticker, reason: `model failed: ${String(defect)}` }))
    )
  )
