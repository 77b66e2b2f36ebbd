/**
 * `esg-aggregator/testing`: what a user needs to test a pipeline built on
 * the library in virtual time (`TestClock`): the application over sources
 * with set latencies, faults and hangs per ticker, every request, grant and
 * arrival recorded, and the facts tests assert read off that record. This
 * project's own tests are written with it.
 *
 * @since 0.1.0
 */
export {
  callsInFlight,
  type CompanyWindow,
  companyWindows,
  type Event,
  Evidence,
  makespan,
  maxCallsInFlight
} from "./Evidence.js"
export {
  type Fault,
  recordEmissions,
  recordFundamentals,
  recordGate,
  recordGovernance,
  type RecordOptions
} from "./Recording.js"
export { type CapturedLog, makeLogCapture, testApp, type TestAppOptions } from "./TestApp.js"
