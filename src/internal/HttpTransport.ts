/**
 * The providers' HTTP transport: undici's `request` on a keep-alive agent.
 * Its own module, imported only when a provider is reached over HTTP, so
 * that undici (a third of the program's code) is loaded only then.
 */
import { Agent, request } from "undici"

export { request }

/** A keep-alive agent for one provider's connections. */
export const makeAgent = (): Agent => new Agent({ keepAliveTimeout: 10_000 })
