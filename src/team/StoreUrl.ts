/**
 * A team store's URL: recognised and shown without its password. Kept apart
 * from the PostgreSQL client so that the command line reads it without
 * loading the client.
 *
 * @since 0.6.0
 */

/** Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`). */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\/\S+$/i.test(url)

/** The URL without its password or parameters, for reports and errors: `postgres://user@host:port/db`. */
export const describeUrl = (url: string): string => {
  if (!URL.canParse(url)) return "postgres://(unreadable URL)"
  const parsed = new URL(url)
  parsed.password = ""
  parsed.search = ""
  return parsed.toString()
}
