// CSV export of the analyze report: one file per table, for spreadsheets, pandas, R or SQL.
//
// Columns are flat and named with their unit (`_ns` = nanoseconds on the trace clock); empty cell =
// unknown. Quoting is csv-stringify's (RFC 4180: fields with commas, quotes or newlines quoted,
// quotes doubled); text that a spreadsheet would run as a formula gets a leading ' (csvCell). Tables:
//   sessions.csv, phases.csv, pin_windows.csv, refcounts.csv, module_refs_by_site.csv,
//   lock_stats.csv, waits.csv (the waits the lock analysis keeps: lockDetails.slowestWaits).
// Writing them into a directory is the CLI's part (cli/export/csv.ts).
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { AnalyzeReport } from '../analyses/report.js';
import { classifyCallSite } from '../analyses/kernel/kernel-models.js';
import { putsWithoutGetCount } from '../analyses/luo/schema.js';
import { lockRowsOf } from './rules.js';

type Cell = string | number | boolean | null | undefined;
export interface CsvTable {
  name: string;
  columns: string[];
  rows: Cell[][];
}

const WaitRowView = z.object({
  lock: z.string().nullable(),
  address: z.string().nullable(),
  type: z.string(),
  waiter: z.object({ pid: z.number().nullable(), comm: z.string().nullable(), session: z.string().nullable().optional(), func: z.string().nullable().optional(), phase: z.string().nullable().optional() }),
  caller: z.string().nullable().optional(),
  begin: z.number(),
  end: z.number(),
  duration: z.number(),
  slept: z.boolean().optional(),
  owners: z.array(z.object({ pid: z.number().nullable(), comm: z.string().nullable(), mode: z.string().optional(), heldFor: z.number().nullable().optional() })).optional(),
  explanation: z.string().optional(),
  luoRelated: z.boolean().optional(),
  file: z.number().int(),
  line: z.number().int(),
});

const DIST = ['count', 'total', 'min', 'max', 'avg', 'p50', 'p90', 'p99', 'p999'] as const;

export function reportTables(r: AnalyzeReport): CsvTable[] {
  const sessions: CsvTable = {
    name: 'sessions',
    columns: ['session_id', 'boot', 'side', 'name', 'state', 'outcome', 'pid', 'comm', 'files', 'phases', 'first_start_ns', 'last_end_ns', 'pins_taken', 'pins_released', 'pins_open', 'peer_boot', 'peer_session_id', 'file_set'],
    rows: r.sessions.map((s) => {
      const starts = s.phases.map((p) => p.start ?? p.end).filter((t): t is number => t !== null);
      const ends = s.phases.map((p) => p.end ?? p.start).filter((t): t is number => t !== null);
      return [s.id, s.boot, s.side, s.name, s.state, s.outcome, s.pid, s.comm, s.files.length, s.phases.length, starts.length ? Math.min(...starts) : null, ends.length ? Math.max(...ends) : null, s.pins.taken, s.pins.released, s.pins.open, s.peer?.boot, s.peer?.id, s.fileSet];
    }),
  };
  const phaseCols = ['boot', 'session_id', 'session', 'side', 'phase', 'func', 'token', 'start_ns', 'end_ns', 'duration_ns', 'result', 'error', 'via', 'pid', 'comm', 'file', 'line', 'end_line'];
  const phases: CsvTable = { name: 'phases', columns: phaseCols, rows: [] };
  for (const s of r.sessions) {
    for (const p of s.phases) phases.rows.push([s.boot, s.id, s.name, s.side, p.name, p.func, p.token, p.start, p.end, p.durationNs, p.result, p.error, p.via, p.pid, p.comm, p.file, p.line, p.endLine]);
  }
  // One row per listed phase: those a report counts past its caps (globalPhasesOmitted, phaseStats of
  // the sessions it does not list) have no row of their own, and a table of phases has no place for a tally.
  for (const b of r.boots) {
    for (const p of b.globalPhases) phases.rows.push([b.id, null, null, 'boot', p.name, p.func, p.token, p.start, p.end, p.durationNs, p.result, p.error, p.via, p.pid, p.comm, p.file, p.line, p.endLine]);
  }
  const pinWindows: CsvTable = {
    name: 'pin_windows',
    columns: ['module', 'boot', 'class', 'flow', 'session_id', 'session', 'token', 'get_time_ns', 'put_time_ns', 'held_ns', 'get_call_site', 'put_call_site', 'get_pid', 'get_comm', 'luo_function', 'open', 'expected_open', 'incomplete', 'file', 'get_line', 'put_line', 'flb'],
    rows: r.modules.flatMap((m) =>
      m.pinWindows.map((w) => [m.name, m.boot, w.class, w.flow, w.sessionId, w.session, w.token, w.getTime, w.putTime, w.durationNs, w.getCallSite, w.putCallSite, w.getPid, w.getComm, w.luoFunction, w.putLine === null, w.expectedOpen, w.incomplete, w.file, w.getLine, w.putLine, w.flb]),
    ),
  };
  const refcounts: CsvTable = {
    name: 'refcounts',
    columns: ['module', 'boot', 'gets', 'puts', 'luo_gets', 'luo_puts', 'vfs_gets', 'vfs_puts', 'first_refcnt', 'final_refcnt', 'max_refcnt', 'open_luo_pins', 'refcnt_mismatches', 'puts_without_get', 'untraced_load_ref_puts', 'loaded', 'freed', 'handlers', 'flbs'],
    rows: r.modules.map((m) => [m.name, m.boot, m.gets, m.puts, m.luo.gets, m.luo.puts, m.vfs.gets, m.vfs.puts, m.firstRefcnt, m.finalRefcnt, m.maxRefcnt, m.openPins, m.refcntMismatchCount, putsWithoutGetCount(m), m.untracedLoadRefPuts, m.loaded.length + (m.loadsOmitted ?? 0), m.freed.length + (m.freesOmitted ?? 0), m.handlers.join(' '), m.flbs.join(' ')]),
  };
  const bySite: CsvTable = {
    name: 'module_refs_by_site',
    columns: ['module', 'boot', 'direction', 'call_site', 'role', 'count'],
    rows: r.modules.flatMap((m) => [
      ...Object.entries(m.getsBySite).map(([site, n]) => [m.name, m.boot, 'get', site, classifyCallSite(site), n]),
      ...Object.entries(m.putsBySite).map(([site, n]) => [m.name, m.boot, 'put', site, classifyCallSite(site), n]),
    ]),
  };
  const lockStats: CsvTable = {
    name: 'lock_stats',
    columns: ['lock', 'address', 'mode', 'type', 'acquisitions', 'contended', ...DIST.map((k) => `wait_${k}${k === 'count' ? '' : '_ns'}`), ...DIST.map((k) => `hold_${k}${k === 'count' ? '' : '_ns'}`), 'luo_related'],
    rows: lockRowsOf(r).rows.map((l) => [l.name, l.address, l.mode, l.type, l.acquisitions, l.contended, ...DIST.map((k) => l.wait[k]), ...DIST.map((k) => l.hold[k]), l.luoRelated]),
  };
  const details = r.lockDetails as Record<string, unknown>;
  const waitsRaw = Array.isArray(details.slowestWaits) ? (details.slowestWaits as unknown[]) : [];
  const waits: CsvTable = {
    name: 'waits',
    columns: ['lock', 'address', 'type', 'waiter_pid', 'waiter_comm', 'session', 'luo_function', 'phase', 'caller', 'begin_ns', 'end_ns', 'wait_ns', 'slept', 'owner_pid', 'owner_comm', 'owner_mode', 'owner_held_for_ns', 'explanation', 'file', 'line', 'luo_related'],
    rows: waitsRaw.flatMap((raw) => {
      const p = WaitRowView.safeParse(raw);
      if (!p.success) return [];
      const w = p.data;
      const o = w.owners?.[0];
      return [[w.lock, w.address, w.type, w.waiter.pid, w.waiter.comm, w.waiter.session, w.waiter.func, w.waiter.phase, w.caller, w.begin, w.end, w.duration, w.slept, o?.pid, o?.comm, o?.mode, o?.heldFor, w.explanation, r.sources[w.file]?.file ?? w.file, w.line, w.luoRelated]];
    }),
  };
  return [sessions, phases, pinWindows, refcounts, bySite, lockStats, waits];
}

// A spreadsheet runs a cell that begins with = + - @ (or a tab or CR before one) as a formula: a
// comm or session name such as `=HYPERLINK(...)` or `@SUM(...)` from the machine under test would
// run on the reader's desktop. As OWASP recommends ("CSV Injection"), such text cells get a leading
// single quote, which spreadsheets show as text. Numbers are cells of type number and stay numbers
// (an errno of -5 is the number -5), and so does text that is only a number.
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/** One CSV cell: booleans as true/false, text that a spreadsheet would run as a formula neutralized. */
export function csvCell(c: Cell): Cell {
  // csv-stringify writes null/undefined as empty cells and booleans as 1/""; say true/false instead.
  if (typeof c === 'boolean') return String(c);
  if (typeof c === 'string' && FORMULA_START.test(c) && !PLAIN_NUMBER.test(c)) return `'${c}`;
  return c;
}

export function tableToCsv(t: CsvTable): string {
  const rows = t.rows.map((row) => row.map(csvCell));
  return stringify([t.columns, ...rows], { eof: true, record_delimiter: 'unix' });
}
