// Phases of the sessions an analyze report only counts (past MAX_DETAILED_SESSIONS, analyses/luo/
// sessions.ts), kept for the Chrome export so that its timeline covers the whole run. The report
// drops those sessions to keep its own memory bounded; the export sees them once, as they are
// dropped (AnalysisHooks.onOmittedSession), and keeps their phases as small flat records.
//
// Memory is bounded by detail, not by time span: up to `cap` phases are kept; past it, every other
// kept phase is dropped and only every 2nd (then 4th, 8th...) later one is kept, so what remains is
// an even sample over the whole run, and the document says which fraction it draws. Failed phases
// are kept apart (up to another `cap`): they are what a reader looks for.
import type { SessionRecord } from '../analyses/luo/sessions.js';

/** One phase of a session the report does not list. */
export interface OmittedPhase {
  session: string | null;
  src: number;
  pid: number | null;
  comm: string | null;
  name: string;
  func: string;
  token: string | null;
  start: number;
  end: number;
  result: number | null;
  error: string | null;
  via: 'ioctl' | 'close' | null;
  line: number;
}

/** Default bound: about 200 bytes a phase, so 100 000 phases cost some 20 MB. */
export const PHASE_SLICE_CAP = 100_000;

export class OmittedPhaseCollector {
  private kept: OmittedPhase[] = [];
  private readonly failed: OmittedPhase[] = [];
  /** Timed phases seen (every one, kept or not). */
  seen = 0;
  /** One kept in `stride` of the phases without an error (1: all). */
  stride = 1;
  /** Phases with an error beyond the cap of those kept apart. */
  failedDropped = 0;
  /** Phases without an error seen: the sampling counts these. */
  private plain = 0;

  constructor(readonly cap = PHASE_SLICE_CAP) {}

  /** Pass as AnalysisHooks.onOmittedSession. */
  readonly push = (s: SessionRecord): void => {
    for (const p of s.phases) {
      if (p.start === null || p.end === null || p.acrossLoss) continue;
      const rec: OmittedPhase = { session: s.name, src: p.src, pid: p.pid, comm: p.comm, name: p.name, func: p.func, token: p.token, start: p.start, end: p.end, result: p.result, error: p.error, via: p.via, line: p.line };
      this.seen++;
      if (p.error !== null) {
        if (this.failed.length < this.cap) this.failed.push(rec);
        else this.failedDropped++;
        continue;
      }
      if (this.plain++ % this.stride !== 0) continue;
      this.kept.push(rec);
      if (this.kept.length > this.cap) {
        // Kept ones are evenly spaced by `stride`: keeping every other one doubles the spacing.
        this.kept = this.kept.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
      }
    }
  };

  phases(): OmittedPhase[] {
    return [...this.kept, ...this.failed];
  }
}
