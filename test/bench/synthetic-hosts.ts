// Synthetic host summaries (labelled synthetic: host names synth-NNNNNN, tool version "synthetic")
// for the scale tests and the bench of the two fleet paths (merge vs SQL over the Parquet tables).
// Shaped like the real captures' summaries: a few verdicts (some failing or warning), sessions by
// state and side, the LUO phases with log-normal durations, two modules (some hosts leak a pin),
// two locks with waits and holds, and about 1% of hosts unusable. Seeded: the same n and seed give
// the same hosts.
import { Distribution } from '../../analyses/locks/quantiles.js';
import { byLockWeight, type HostSummary, lockKey, unusableHost } from '../../reports/fleet.js';
import { seededRandom } from '../helpers.js';

const TOOL = { name: 'luotrace', version: 'synthetic' } as const;
const PHASES = ['create', 'preserve', 'freeze', 'finish'] as const;
const MODELS = ['merged', 'later', 'v1'] as const;
const LOCKS = [lockKey('luo_register_rwlock', 'rwsem:W'), lockKey('luo_session_global.outgoing.rwsem', 'rwsem:R')] as const;

function logNormal(r: () => number, mu: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.round(Math.exp(mu + sigma * z));
}

function dist(r: () => number, n: number, mu: number): Distribution {
  const d = new Distribution();
  for (let i = 0; i < n; i++) d.add(r() < 0.02 ? 0 : logNormal(r, mu, 1.2));
  return d;
}

function lockFigures(key: string, wait: Distribution, hold: Distribution, r: () => number) {
  const [name, type] = key.split('|');
  return {
    key,
    name,
    mode: type.endsWith(':R') ? 'read' : 'write',
    type,
    lockType: 'rwsem',
    luoRole: r() < 0.5 ? 'registration' : null,
    rows: 1,
    instances: 1,
    acquisitions: hold.count + wait.count,
    contended: wait.count,
    slept: Math.floor(wait.count / 2),
    failed: 0,
    trylockFailed: 0,
    wait: wait.summary(),
    hold: hold.summary(),
    incomplete: { waits: { 'trace-end': r() < 0.1 ? 1 : 0 }, holds: {} },
  };
}

/** Host i of a synthetic fleet. */
export function syntheticHost(i: number, seed = 18): HostSummary {
  const r = seededRandom(seed * 1_000_003 + i);
  const host = `synth-${String(i).padStart(6, '0')}`;
  const base = unusableHost(host, [`${host}/ftrace-main.txt.gz`], 'synthetic: no trace format recognized', TOOL);
  if (r() < 0.01) return base;
  const sessions = 1 + Math.floor(r() * 4);
  const phaseDists = PHASES.map((p, k) => [p, dist(r, sessions, 14 + k)] as const);
  const locks = LOCKS.map((key) => ({ key, wait: dist(r, Math.floor(r() * 20), 10), hold: dist(r, 1 + Math.floor(r() * 30), 11) }));
  const leaked = r() < 0.05 ? 1 : 0;
  const warn = r() < 0.1;
  const fail = r() < 0.03;
  return {
    ...base,
    error: null,
    kernelModel: MODELS[Math.floor(r() * MODELS.length)],
    verdicts: [
      { id: 'refcounts-balanced', ok: !fail, severity: fail ? 'error' : 'info', message: fail ? 'synthetic: refcount off by one' : 'balanced' },
      { id: 'pins-released', ok: leaked === 0, severity: leaked ? 'error' : 'info', message: leaked ? 'synthetic: 1 pin open' : 'released' },
      { id: 'phase-errors', ok: !warn, severity: warn ? 'warning' : 'info', message: warn ? 'synthetic: a phase failed' : 'no errors' },
    ],
    failed: [...(fail ? ['refcounts-balanced'] : []), ...(leaked ? ['pins-released'] : [])],
    boots: 1,
    sessions: { total: sessions, listed: sessions, omitted: 0, byState: { finished: sessions }, bySide: { outgoing: sessions } },
    phases: phaseDists.map(([phase, d]) => ({ phase, count: d.count, errors: warn && phase === 'preserve' ? 1 : 0, totalNs: d.total, minNs: d.min, maxNs: d.max, avgNs: Math.round(d.total / d.count), durations: d.summary() })),
    modules: ['memfd_luo', 'kvm'].map((name, k) => ({
      name,
      boot: 0,
      gets: 2 * sessions + k,
      puts: 2 * sessions + k - (k === 0 ? leaked : 0),
      luoGets: sessions,
      luoPuts: sessions - (k === 0 ? leaked : 0),
      firstRefcnt: 1,
      finalRefcnt: 1 + (k === 0 ? leaked : 0),
      maxRefcnt: 1 + sessions,
      openPins: k === 0 ? leaked : 0,
      leakedPins: k === 0 ? leaked : 0,
      refcntMismatches: fail && k === 1 ? 1 : 0,
      putsWithoutGet: 0,
    })),
    // In the order buildHostSummary gives a host's locks (the heaviest waits first).
    locks: locks.map((l) => lockFigures(l.key, l.wait, l.hold, r)).sort(byLockWeight),
    dataQuality: { lines: 1000 + Math.floor(r() * 5000), events: 500 + Math.floor(r() * 2000), skipped: Math.floor(r() * 3), lostEvents: r() < 0.02 ? 10 : 0, lostMarkers: 0, truncated: false, incomplete: false, notes: [] },
    distributions: {
      phases: Object.fromEntries(phaseDists.map(([p, d]) => [p, d.serialize()])),
      locks: Object.fromEntries(locks.map((l) => [l.key, { wait: l.wait.serialize(), hold: l.hold.serialize() }])),
    },
  };
}
