/**
 * A team on one provider quota, through PostgreSQL: the shared score store
 * (`TeamStore`) and the gate across processes and hosts (`TeamGate`). What
 * the command line loads, only when it is given a store URL.
 *
 * @since 0.6.0
 */
export { layer as storeLayer } from "./TeamStore.js"
export { layer as gateLayer, type TeamGateOptions } from "./TeamGate.js"
