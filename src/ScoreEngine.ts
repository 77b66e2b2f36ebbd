/**
 * The scorer service: turns one company's three sources into a score. The
 * model itself lives in `ScoreModel`; this service decides where it runs.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { Score, ScoreInput, ScoringError } from "./Domain.js"
import { scoreCompany } from "./ScoreModel.js"

export interface ScoreEngineService {
  readonly score: (input: ScoreInput) => Effect.Effect<Score, ScoringError>
}

export class ScoreEngine extends Context.Tag("esg-aggregator/ScoreEngine")<ScoreEngine, ScoreEngineService>() {
  /** Scores on the calling fiber's thread: for tests and small runs. */
  static readonly layerInline: Layer.Layer<ScoreEngine> = Layer.succeed(
    ScoreEngine,
    ScoreEngine.of({
      score: (input: ScoreInput) => Effect.sync(() => scoreCompany(input)).pipe(Effect.withSpan("ScoreEngine.score"))
    })
  )
}
