/**
 * Parses the durations users type on the command line: `2`, `2s`, `1.5s`,
 * `1500ms`, `1m`, `24h`, `7d`, `2w`. A bare number means seconds.
 */
import { Duration, Option } from "effect"

const pattern = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|millis|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?|w|wks?|weeks?)?\s*$/i

export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = pattern.exec(text)
  if (match === null) return Option.none()
  const amount = Number(match[1])
  const unit = (match[2] ?? "s").toLowerCase()
  const millis = unit.startsWith("ms") || unit.startsWith("milli")
    ? amount
    : unit.startsWith("m")
    ? amount * 60_000
    : unit.startsWith("h")
    ? amount * 3_600_000
    : unit.startsWith("d")
    ? amount * 86_400_000
    : unit.startsWith("w")
    ? amount * 604_800_000
    : amount * 1000
  return Number.isFinite(millis) ? Option.some(Duration.millis(millis)) : Option.none()
}

/** Milliseconds as seconds people read: at least one decimal, and no digit lost (1250 is 1.25, 2000 is 2.0). */
export const formatSeconds = (millis: number): string => {
  const s = millis / 1000
  return Number.isInteger(s * 10) ? s.toFixed(1) : String(s)
}

/**
 * A duration as people write it, in its largest unit that keeps it short:
 * `800ms`, `1.2s`, `2s`, `1.5m`, `24h` (never `1s 200ms`).
 */
export const durationText = (duration: Duration.DurationInput): string => {
  const millis = Duration.toMillis(Duration.decode(duration))
  if (millis < 1000) return `${Number(millis.toFixed(3))}ms`
  if (millis < 60_000) return `${Number((millis / 1000).toFixed(3))}s`
  if (millis < 3_600_000) return `${Number((millis / 60_000).toFixed(3))}m`
  return `${Number((millis / 3_600_000).toFixed(3))}h`
}
