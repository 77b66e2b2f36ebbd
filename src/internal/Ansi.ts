/**
 * The few ANSI styles the CLI uses, each applied only where the caller has
 * decided colour is allowed (a terminal, `NO_COLOR` unset): a piped or
 * redirected report stays plain text.
 */

export type Style = (text: string) => string

const sgr = (on: number, off: number): Style => (text) => `\u001b[${on}m${text}\u001b[${off}m`

export const bold: Style = sgr(1, 22)
export const green: Style = sgr(32, 39)
export const yellow: Style = sgr(33, 39)
export const red: Style = sgr(31, 39)
export const plain: Style = (text) => text
