// What the TUI can show: six screens (Tab / 1-6) and the detail views Enter drills into
// (verdict -> session -> module -> pin window -> raw lines). A view names its object by a stable
// key, not an array index, so it still points at the same thing when --follow refreshes the report.
import type { Line } from './text.js';

export const SCREENS = ['overview', 'sessions', 'modules', 'locks', 'events', 'quality'] as const;
export type ScreenId = (typeof SCREENS)[number];
export const SCREEN_TITLES: Record<ScreenId, string> = {
  overview: 'Overview',
  sessions: 'Sessions',
  modules: 'Modules',
  locks: 'Locks',
  events: 'Events',
  quality: 'Quality',
};

export type View =
  | { kind: 'overview' }
  | { kind: 'sessions' }
  | { kind: 'modules' }
  /** `all`: every lock, not only the LUO-related ones (the drill-down of the "other locks" row). */
  | { kind: 'locks'; all?: boolean }
  | { kind: 'quality' }
  /** Raw lines of one input file; `line` is where the cursor starts, `mark` the line to highlight. */
  | { kind: 'events'; file?: string; line?: number; mark?: number }
  | { kind: 'verdict'; id: string }
  | { kind: 'session'; id: number }
  /** `name@boot` */
  | { kind: 'module'; key: string }
  /** `file:getLine` of the module_get that opened the window */
  | { kind: 'pin'; key: string }
  /** `name|address|mode` */
  | { kind: 'lock'; key: string };

/** One selectable row of a page; `open` is where Enter goes. */
export interface Row {
  key: string;
  line: Line;
  /** Text the `/` filter matches against (defaults to the row's text). */
  search?: string;
  open?: View | null;
  /** Jump-to-line target for the Events screen (filtered rows). */
  lineNo?: number;
}

/** A list that is too long to build row by row (the Events screen). */
export interface VirtualRows {
  count: number;
  get(i: number): Row;
}

export interface Page {
  /** Breadcrumb text for this view. */
  title: string;
  /** Fixed lines above the list. */
  top: Line[];
  rows: Row[] | VirtualRows;
  /** Lines below the list, given the selected row and the rows left for them. */
  bottom?: (selected: Row | undefined, budget: number) => Line[];
  /** Rows the bottom part would like (the list gets the rest). */
  bottomWants?: number;
  /** At most this many list rows (the rest goes to `bottom`). */
  listMax?: number;
  /** Names of the orders `s` cycles through; index 0 is the default. */
  sorts?: string[];
  /** Shown instead of the list when it is empty. */
  empty?: string;
  /** The page filters its own rows (lazyRows, or the Events screen's file search). */
  ownFilter?: boolean;
  /** `/` filters when Enter is pressed, not at each key (a search through a file is not free). */
  filterOnSubmit?: boolean;
  /** Where the cursor goes when the view opens with a target (Events: the line to show). */
  initialCursor?: number;
  /** Events: line number of row 0 when rows are consecutive lines. */
  firstLine?: number;
}

export function isVirtual(rows: Row[] | VirtualRows): rows is VirtualRows {
  return !Array.isArray(rows);
}

/**
 * Rows made only when shown (a run can have hundreds of thousands of pin windows): `make(i)` builds
 * row i; with a filter, only the plain search text of each item is computed to find the matches.
 */
export function lazyRows(count: number, make: (i: number) => Row, search: (i: number) => string, filter: string): VirtualRows {
  if (!filter) return { count, get: make };
  const f = filter.toLowerCase();
  const hits: number[] = [];
  for (let i = 0; i < count; i++) if (search(i).toLowerCase().includes(f)) hits.push(i);
  return { count: hits.length, get: (j) => make(hits[j]) };
}

export function rootView(screen: ScreenId): View {
  return { kind: screen } as View;
}
