/**
 * A team store's URL: recognised and shown without its password. Kept apart
 * from the PostgreSQL client so that the command line reads it without
 * loading the client.
 *
 * @since 0.6.0
 */

/**
 * Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
 *
 * @since 0.1.0
 */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\/\S+$/i.test(url)

/**
 * Why `url` cannot be read as a store's URL, or undefined when it can: a
 * user name or password holding `@`, `/`, `?`, `#` or `:` must be
 * percent-encoded, or the URL reads as another host.
 *
 * @since 0.1.0
 */
export const unreadableUrl = (url: string): string | undefined => {
  const authority = url.replace(/^[a-z]+:\/\//i, "")
  if ((authority.match(/@/g) ?? []).length > 1 || !URL.canParse(url) || new URL(url).hostname === "") {
    return "a user name or password that holds @, :, /, ? or # must be percent-encoded (@ is %40, : is %3A, / is %2F)"
  }
  return undefined
}

/**
 * The URL without its password or parameters, for reports and errors: `postgres://user@host:port/db`.
 *
 * @since 0.1.0
 */
export const describeUrl = (url: string): string => {
  if (!URL.canParse(url)) return "postgres://(unreadable URL)"
  const parsed = new URL(url)
  parsed.password = ""
  parsed.search = ""
  return parsed.toString()
}
