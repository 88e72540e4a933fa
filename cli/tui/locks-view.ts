// The lock rows as the Locks screen reads them. The lock analyses (issue #4) own the real schema;
// this reads only the contract fields (name, address, mode, acquisitions, contended, wait/hold
// summaries in ns) and uses the richer ones when present (type, waitHistogram, the slowest waits
// with their owners in lockDetails), so the screen works with the placeholder, with the full
// section, and with anything in between. Rows that do not fit are counted, not shown wrong.
import { z } from 'zod';
import { DistributionFiguresSchema } from '../../analyses/locks/quantiles.js';
import { type AnalyzeReport, readableRows } from '../../analyses/report.js';

const Summary = DistributionFiguresSchema.partial();
export type LockSummary = z.infer<typeof Summary>;

const Bucket = z.object({ low: z.number(), high: z.number(), count: z.number() });


const Who = z
  .object({ pid: z.number().nullable(), comm: z.string().nullable(), session: z.string().nullable(), func: z.string().nullable(), phase: z.string().nullable() })
  .partial();

export const WaitView = z.object({
  lock: z.string().nullable(),
  address: z.string().nullable().optional(),
  /** The waiter's mode as the lock's row type: `rwsem:W` for a writer. */
  type: z.string().optional(),
  duration: z.number(),
  begin: z.number().optional(),
  waiter: Who.optional(),
  owners: z.array(Who.extend({ mode: z.string().optional(), heldFor: z.number().nullable().optional() })).optional(),
  /** No holder seen when the wait began: the task whose release came last before it ended. */
  wokenBy: Who.nullable().optional(),
  explanation: z.string().optional(),
  /** Source index (or file name) and line of the wait's first event. */
  file: z.union([z.number(), z.string()]).optional(),
  line: z.number().optional(),
});
export type WaitRecord = z.infer<typeof WaitView>;

export const LockRowView = z.object({
  name: z.string().nullable(),
  address: z.string().nullable(),
  mode: z.string(),
  type: z.string().optional(),
  acquisitions: z.number().optional(),
  contended: z.number().optional(),
  wait: Summary.optional(),
  hold: Summary.optional(),
  waitHistogram: z.array(Bucket).optional(),
  holdHistogram: z.array(Bucket).optional(),
  /** A LUO lock or one waited on inside LUO calls (listed first; the others behind one summary row). */
  luoRelated: z.boolean().optional(),
  /** The longest waits on this lock x mode with their holders (a few; wait.count is the true count). */
  longestWaits: z.array(z.unknown()).optional(),
});
export type LockRow = z.infer<typeof LockRowView>;

export const lockKey = (l: Pick<LockRow, 'name' | 'address' | 'mode'>): string => `${l.name ?? ''}|${l.address ?? ''}|${l.mode}`;
export const lockName = (l: Pick<LockRow, 'name' | 'address'>): string => l.name ?? l.address ?? '(unknown lock)';

export function lockRows(r: AnalyzeReport): { rows: LockRow[]; unreadable: number } {
  return readableRows(LockRowView, r.locks);
}

/** Is this row a LUO lock or one waited on inside LUO calls? (Reports without the field: every row is.) */
export const isLuoRow = (l: LockRow): boolean => l.luoRelated !== false;

/**
 * The longest waits on this lock the report kept, slowest first: the row's own (longestWaits, a few
 * per lock) and those of this lock among lockDetails.slowestWaits (the slowest of the whole run, so a
 * busy lock can have more there), each wait once.
 */
export function waitsOf(r: AnalyzeReport, l: LockRow): WaitRecord[] {
  const own = l.longestWaits ? readableRows(WaitView, l.longestWaits).rows : [];
  const seen = new Set(own.map((w) => `${w.file}:${w.line}:${w.begin}`));
  const more = slowestWaitsOf(r, l).filter((w) => !seen.has(`${w.file}:${w.line}:${w.begin}`));
  return [...own, ...more].sort((a, b) => b.duration - a.duration);
}

function slowestWaitsOf(r: AnalyzeReport, l: LockRow): WaitRecord[] {
  const list = (r.lockDetails as Record<string, unknown>).slowestWaits;
  if (!Array.isArray(list)) return [];
  const out: WaitRecord[] = [];
  for (const x of list) {
    const p = WaitView.safeParse(x);
    if (!p.success) continue;
    const w = p.data;
    const same = (l.name !== null && w.lock === l.name) || (l.address !== null && w.address === l.address);
    // One lock has a row per mode (rwsem:R, rwsem:W): a wait belongs to the row of its mode.
    const typeOf = (x: unknown) => (typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string' ? (x as { type: string }).type : null);
    if (same && (l.type === undefined || typeOf(x) === null || typeOf(x) === l.type)) out.push(w);
  }
  return out;
}

/** The file a wait's `file` field names (a source index in the issue #4 contract). */
export function waitFile(r: AnalyzeReport, w: WaitRecord): string | null {
  if (typeof w.file === 'string') return w.file;
  if (typeof w.file === 'number') return r.sources[w.file]?.file ?? null;
  return null;
}

export const LOCK_SORTS = ['wait total', 'wait max', 'contended', 'acquisitions', 'hold total', 'name'] as const;

export function sortLocks(rows: LockRow[], sort: (typeof LOCK_SORTS)[number]): LockRow[] {
  const by = (f: (l: LockRow) => number) => [...rows].sort((a, b) => f(b) - f(a) || lockName(a).localeCompare(lockName(b)));
  switch (sort) {
    case 'wait total':
      return by((l) => l.wait?.total ?? 0);
    case 'wait max':
      return by((l) => l.wait?.max ?? 0);
    case 'contended':
      return by((l) => l.contended ?? 0);
    case 'acquisitions':
      return by((l) => l.acquisitions ?? 0);
    case 'hold total':
      return by((l) => l.hold?.total ?? 0);
    case 'name':
      return [...rows].sort((a, b) => lockName(a).localeCompare(lockName(b)));
  }
}
