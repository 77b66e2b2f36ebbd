/**
 * A real, blocking wait on the current thread: how a worker emulates the
 * scenario's blocking database call.
 *
 * @since 0.2.0
 */

const parked = new Int32Array(new SharedArrayBuffer(4))

/**
 * Blocks the current thread for `millis` milliseconds: a real wait, not a
 * timer. Emulates a blocking database call inside a worker; on the main
 * thread it would freeze the event loop, which is the point it demonstrates.
 */
export const blockFor = (millis: number): void => {
  if (!Number.isFinite(millis) || millis < 0) {
    throw new RangeError(`blockFor needs a finite, non-negative duration, got ${millis}`)
  }
  // Nothing ever notifies `parked`, so each wait ends by timeout; the loop
  // only guards against a timer that fires a little early.
  const deadline = performance.now() + millis
  for (let left = millis; left > 0; left = deadline - performance.now()) {
    Atomics.wait(parked, 0, 0, left)
  }
}
