/**
 * A team on one provider quota, through PostgreSQL (`esg-aggregator/team`):
 * the shared score store (`TeamStore`) and the gate across processes and
 * hosts (`TeamGate`). Apart from the package's index, so that only a team
 * loads the PostgreSQL client; the command line loads it only when given a
 * store URL.
 *
 * @since 0.6.0
 */
/**
 * The gate across processes and hosts: a team's API permits, held as advisory locks in PostgreSQL.
 *
 * @since 0.1.0
 */
export * as TeamGate from "./TeamGate.js"
/**
 * The score store a team shares in PostgreSQL: a score one process writes is reused by the others.
 *
 * @since 0.1.0
 */
export * as TeamStore from "./TeamStore.js"
