// Text from a trace printed to a terminal. A trace is data from the machine under test: any process
// chooses its own comm (prctl PR_SET_NAME), userspace chooses session names, and a broken machine
// writes anything. An ESC in a comm would otherwise reach the terminal and drive it (set the title,
// clear the screen, blink), a CR would overwrite a line of the report, and a bidi override would
// reorder what the reader sees. Every control character is therefore shown as an escape:
//   C0 controls and DEL:  \0 \a \b \t \n \v \f \r \e, otherwise \xNN (\x7f for DEL)
//   C1 controls (U+0080-U+009F): \xNN (an 8-bit CSI is \x9b)
//   bidi controls and line/paragraph separators: \uNNNN
// This is the one home of that convention: text reports, error messages and progress lines (via
// visibleText) and every TUI cell (cli/tui/text.ts) go through it. JSON output is not touched (it
// is exact: JSON.stringify escapes the C0 controls itself), nor CSV (data for
// spreadsheets: cli/export/csv.ts neutralizes formulas instead).

// U+061C arabic letter mark, U+200E/F LRM/RLM, U+2028/9 separators, U+202A-E embeddings and
// overrides, U+2066-9 isolates.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
});

function escapeOne(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value (a name, a raw line) with every control character made visible, newlines included. */
export function visible(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

/**
 * A whole text report or message: the same, except that its own line breaks stay line breaks. Safe
 * as the last step before writing because the reports put no control characters of their own
 * (no colour codes; box drawing and chart characters are printable).
 */
export function visibleText(text: string): string {
  UNSAFE_BUT_NEWLINE.lastIndex = 0;
  return UNSAFE_BUT_NEWLINE.test(text) ? text.replace(UNSAFE_BUT_NEWLINE, escapeOne) : text;
}
