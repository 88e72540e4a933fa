// Text rendering of the locks section of `luotrace analyze`: a `perf lock contention`-style table
// (its column words: contended, total wait, max wait, avg wait, type, caller; plus acquired and
// hold times, which perf does not give without lockdep), percentiles, log2 histograms drawn as
// bar rows (bpftrace's hist() layout), the slowest waits with their owners, and the stall view.
// LUO first: the rows of LUO locks and of locks waited on inside LUO calls (luoRelated) are listed;
// the other locks are one line of totals unless --all-locks (an unfiltered capture has tens of
// thousands of unrelated contention events: grep, init...).
import { formatDuration as fmtNs, formatSeconds, shortFile } from '../analyses/format.js';
import type { LockRow, WaitRecord } from '../analyses/locks/locks.js';
import type { AnalyzeReport } from '../analyses/report.js';

type LocksReport = Pick<AnalyzeReport, 'locks' | 'lockDetails' | 'sources'>;

const HISTOGRAMS = 2;
const BAR_WIDTH = 40;


/** Bucket bounds as bpftrace prints them: 64K, 1M (powers of 1024). */
function sizeLabel(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 30, 'G'],
    [2 ** 20, 'M'],
    [2 ** 10, 'K'],
  ];
  for (const [v, u] of units) if (n >= v && n % v === 0) return `${n / v}${u}`;
  return String(n);
}

function lockLabel(r: { name: string | null; address: string | null; luo: { role: string } | null }): string {
  const base = r.name ?? r.address ?? '(unnamed)';
  return r.luo ? `${base} [LUO]` : base;
}


function table(rows: LockRow[]): string[] {
  const head = ['acquired', 'contended', 'slept', 'avg wait', 'total wait', 'max wait', 'avg hold', 'max hold', 'type', 'caller', 'name'];
  const body = rows.map((r) => {
    const topCaller = r.callers.find((c) => c.wait.count > 0)?.key ?? r.callers[0]?.key ?? null;
    return [
      String(r.acquisitions),
      String(r.contended),
      String(r.slept),
      fmtNs(r.wait.avg),
      fmtNs(r.wait.count ? r.wait.total : null),
      fmtNs(r.wait.max),
      fmtNs(r.hold.avg),
      fmtNs(r.hold.max),
      r.type,
      topCaller ?? '-',
      lockLabel(r),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const leftAligned = new Set([8, 9, 10]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : leftAligned.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)];
}

function histogramRows(title: string, buckets: Array<{ low: number; high: number; count: number }>): string[] {
  if (!buckets.length) return [];
  const max = Math.max(...buckets.map((b) => b.count));
  const byLow = new Map(buckets.map((b) => [b.low, b.count]));
  // Fill the gaps between non-empty buckets so the shape reads like bpftrace's hist().
  const labels: Array<[string, number]> = [];
  for (let low = buckets[0].low; low <= buckets[buckets.length - 1].low; low = low === 0 ? 1 : low * 2) {
    labels.push([`[${sizeLabel(low)}, ${sizeLabel(low === 0 ? 1 : low * 2)})`, byLow.get(low) ?? 0]);
  }
  const w = Math.max(...labels.map(([l]) => l.length));
  const out = [title];
  for (const [l, n] of labels) out.push(`  ${l.padEnd(w)} ${String(n).padStart(7)} |${'@'.repeat(Math.round((n / max) * BAR_WIDTH)).padEnd(BAR_WIDTH)}|`);
  return out;
}

function percentileLine(kind: string, d: LockRow['wait']): string {
  if (!d.count) return `${kind}: none`;
  return `${kind}: n=${d.count} min ${fmtNs(d.min)}  p50 ${fmtNs(d.p50)}  p90 ${fmtNs(d.p90)}  p99 ${fmtNs(d.p99)}  p99.9 ${fmtNs(d.p999)}  max ${fmtNs(d.max)}  (${d.quantiles})`;
}

function waitLine(w: WaitRecord, files: string[]): string {
  return `${fmtNs(w.duration).padStart(9)}  ${w.explanation}  ${shortFile(files[w.file] ?? String(w.file))}:${w.line}`;
}

/** The rows not related to LUO, summed in one line (lockDetails.otherLocks). */
function otherLocksLine(o: AnalyzeReport['lockDetails']['otherLocks'], listed: boolean): string {
  const what = `${o.foldedNames ? 'about ' : ''}${o.rows} other lock${o.rows === 1 ? '' : 's'}${o.foldedNames ? ` (about ${o.foldedNames} past the lock table's bound, in one row)` : ''} (not LUO locks, not waited on or taken inside LUO calls): ${o.contended} contended, ${o.waitCount} timed waits, total ${fmtNs(o.waitCount ? o.waitTotal : null)}, longest ${fmtNs(o.waitMax)}`;
  return listed ? `${what}: the rows after the LUO-related ones` : `${what} (--all-locks lists them)`;
}

/** The lock table: LUO-related rows, then the other locks as one line (or listed with --all-locks). */
function tableLines(r: LocksReport, limit: number, allLocks: boolean, filtered: boolean): string[] {
  const luo = r.locks.filter((x) => x.luoRelated);
  const other = r.locks.filter((x) => !x.luoRelated);
  // Nothing related to LUO in these inputs: nothing to bury, so the locks are listed as they are.
  const listOther = allLocks || luo.length === 0;
  const out: string[] = [];
  if (luo.length === 0 && other.length) out.push(`  no LUO lock and no lock waited on inside a LUO call ${filtered ? 'among the selected rows' : 'in these inputs'}; the other locks:`);
  // The top LUO-related rows by the sort key, plus the known LUO locks below the cut: those are what a LUO user came for.
  const luoShown = [...luo.slice(0, limit), ...luo.slice(limit).filter((x) => x.luo)];
  const shown = [...luoShown, ...(listOther ? other.slice(0, limit) : [])];
  for (const l of table(shown)) out.push(`  ${l}`);
  const hidden = luo.length - luoShown.length + (listOther ? other.length - Math.min(limit, other.length) : 0);
  if (hidden > 0) out.push(`  … ${hidden} more lock${hidden === 1 ? '' : 's'} (--limit N, --lock, --type, or --json for all)`);
  if (other.length && luo.length) out.push(`  ${otherLocksLine(r.lockDetails.otherLocks, listOther)}`);
  return out;
}

export function renderLocksText(r: LocksReport, opts: { limit: number; allLocks?: boolean } = { limit: 20 }): string {
  const d = r.lockDetails;
  const limit = Math.max(1, opts.limit);
  const files = r.sources.map((s) => s.file);
  const out: string[] = [`LOCKS (${r.locks.length}; sorted by ${d.sortKey}; waits are contention_begin -> end, holds acquire -> release)`];
  const f = d.filters;
  const active = [
    f.lock && `--lock ${f.lock}`,
    f.type && `--type ${f.type}`,
    f.session && `--session ${f.session}`,
    f.pids.length && `--pid ${f.pids.join(',')}`,
    f.since !== null && `--since ${formatSeconds(f.since)}`,
    f.until !== null && `--until ${formatSeconds(f.until)}`,
  ].filter(Boolean);
  if (active.length) out.push(`  filters: ${active.join(' ')}`);
  if (!r.locks.length) {
    out.push('  no lock events (lock:contention_*, lock:lock_acquire/release, or probes on down_*/up_*/mutex_*)');
    return `${out.join('\n')}\n\n`;
  }
  const t = d.totals;
  out.push(
    `  in the trace: contention_begin ${t.contentionBegins}, contention_end ${t.contentionEnds} -> ${t.contendedAcquisitions} contended acquisitions` +
      ` (${t.reBegins} re-begins of an open wait, real README O7), ${t.boundToNamedAcquisition} named by the task's own lock event` +
      (t.orphanEnds ? `, ${t.orphanEnds} ends without begin` : '') +
      (t.openAtEnd ? `, ${t.openAtEnd} still waiting at the end` : ''),
  );
  const allLocks = opts.allLocks === true || !r.locks.some((x) => x.luoRelated);
  out.push(...tableLines(r, limit, allLocks, active.length > 0));
  const incomplete = r.locks.reduce((n, x) => n + Object.values(x.incomplete.holds).reduce((a, b) => a + b, 0) + Object.values(x.incomplete.waits).reduce((a, b) => a + b, 0), 0);
  if (incomplete) out.push(`  ${incomplete} intervals cut by the trace edges, lost events or clock order are left out of these figures (--json: locks[].incomplete)`);

  const withData = (x: LockRow) => x.wait.count > 0 || x.hold.count > 0;
  const luoRows = r.locks.filter((x) => x.luo && withData(x));
  for (const x of (luoRows.length ? luoRows : r.locks.filter(withData)).slice(0, HISTOGRAMS)) {
    out.push('');
    out.push(`  ${lockLabel(x)} (${x.type})${x.luo ? `: ${x.luo.role}` : ''}`);
    out.push(`    ${percentileLine('wait', x.wait)}`);
    out.push(`    ${percentileLine('hold', x.hold)}`);
    for (const l of histogramRows('wait, ns:', x.waitHistogram)) out.push(`    ${l}`);
    for (const l of histogramRows('hold, ns:', x.holdHistogram)) out.push(`    ${l}`);
    const phases = x.phases.filter((p) => p.wait.count || p.hold.count).slice(0, 4);
    if (phases.length) {
      out.push(
        `    by phase: ${phases.map((p) => `${p.key ?? 'outside LUO calls'} ${p.acquisitions} acq, wait ${fmtNs(p.wait.count ? p.wait.total : null)}, hold ${fmtNs(p.hold.count ? p.hold.total : null)}`).join('; ')}`,
      );
    }
  }
  out.push(`  percentiles: ${d.quantileMethod.description}`);

  const waits = d.slowestWaits.filter((w) => allLocks || w.luoRelated);
  if (waits.length) {
    out.push('');
    out.push(`  Slowest waits${allLocks ? '' : ' related to LUO'}, and who held the lock:`);
    for (const w of waits.slice(0, Math.min(10, limit))) out.push(`  ${waitLine(w, files)}`);
  }
  const otherWaits = d.slowestWaits.filter((w) => !w.luoRelated);
  if (!allLocks && otherWaits.length) out.push(`  (other locks: longest wait ${fmtNs(otherWaits[0].duration)}; --all-locks lists their slowest waits)`);
  const stalls = d.stalls.filter((s) => s.slowest.some((p) => p.waitCount > 0)).slice(0, Math.min(5, limit));
  if (stalls.length) {
    out.push('');
    out.push(`  Stalls: the slowest LUO calls of each session and the lock waits inside them (${d.stallSessionsTotal} sessions; ${stalls.length} shown):`);
    for (const s of stalls) {
      out.push(`    session ${s.session ?? '(none: registration, module load...)'}`);
      for (const p of s.slowest) {
        out.push(
          `      ${p.func} (${p.phase ?? '-'}) ${p.comm ?? '?'}[${p.pid ?? '?'}] ${p.duration === null ? 'duration unknown' : fmtNs(p.duration)}${p.incomplete ? ' (incomplete)' : ''}: ` +
            `${p.waitCount} waits, ${fmtNs(p.waitTotal)} waiting`,
        );
        for (const w of p.waits.slice(0, 3)) out.push(`      ${waitLine(w, files)}`);
      }
    }
  }
  if (d.heldAtEnd.length) {
    out.push('');
    out.push('  Held when the trace ended:');
    for (const h of d.heldAtEnd.slice(0, limit)) {
      out.push(`    ${h.lock ?? h.address ?? '?'} (${h.type}) by ${h.comm ?? '?'}[${h.pid ?? '?'}]${h.func ? ` in ${h.func}` : ''} since ${h.since === null ? 'before the trace' : `${formatSeconds(h.since)} s`}`);
    }
  }
  if (d.notes.length) out.push('');
  for (const n of d.notes) out.push(`  note: ${n}`);
  return `${out.join('\n')}\n\n`;
}
