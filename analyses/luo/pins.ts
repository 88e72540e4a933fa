// Module pin windows: every module_get paired with the module_put that releases it.
//
// Pairing follows where each kind of reference is taken and dropped (docs/luo-model.md §4, real README
// O4), keyed so that only matching references pair:
// - handler-owner refs per preserved/deserialized file: get in `luo_preserve_file` /
//   `luo_file_deserialize(_one)`, put in `luo_file_unpreserve_files` (abort), `luo_file_finish`, or
//   the error paths of the same functions; keyed by the session's file set when probes show it;
// - FLB-owner refs: outgoing get in `luo_flb_file_preserve(_one)`, put in
//   `luo_flb_file_unpreserve(_one)` / `liveupdate_flb_put_outgoing`; incoming get in
//   `luo_flb_retrieve_one`, put in `luo_flb_file_finish(_one)` / `liveupdate_flb_put_incoming`;
// - PRE kernels: a pin per registration, dropped by unregister (§4 PRE, §7(a));
// - VFS refs of the module's own fops (`misc_open`, `__anon_inode_getfile` -> `__fput`) are counted
//   and paired too, but are not LUO pins;
// - `do_init_module` puts the reference taken while loading, which no module_get shows (real README
//   §3.1): a known untraced get, not a finding.
// A window is `incomplete` when a lost-events gap occurred while it was open.
// Bounds on lossy input (docs/luo-model.md §4 "Pin windows on lossy input"): a window is detached
// from its session when the session ends (sessionEnded), and a file window still open when its
// session is aborted or finished, with events lost since its get, had its put lost: it leaves the
// pairing pool (listed as open and incomplete, the first PinLimits.putLost; past that counted).
import { CountedPast } from '../lists.js';
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { bareCallSite, type CallSiteClass, classifyCallSite } from '../kernel/kernel-models.js';
import type { LuoCallTracker } from '../stream/luo-calls.js';
import type { Segment } from '../stream/segments.js';
import { BackwardSpans } from './backwards.js';
import type { ModuleNames } from './module-names.js';
import { isLuoReference } from './pin-kinds.js';
import type { SessionReducer } from './sessions.js';

export interface PinWindow {
  module: string;
  segment: number;
  src: number;
  class: CallSiteClass;
  /** outgoing (old kernel: preserve) or incoming (new kernel: deserialize/retrieve) for LUO refs. */
  flow: 'outgoing' | 'incoming' | null;
  getLine: number;
  getTime: number | null;
  getCallSite: string;
  getPid: number | null;
  getComm: string | null;
  putLine: number | null;
  /** The put's input when it is not the get's (a later file of the same boot, stream/continuity.ts). */
  putSrc: number | null;
  putTime: number | null;
  putCallSite: string | null;
  /** Session key (see SessionRecord.key) whose file set the get was taken for, when known; never for an FLB pin. */
  session: number | null;
  /** Its name, remembered here because ended sessions may be dropped to counts (sessions.ts). */
  sessionName: string | null;
  fileSet: string | null;
  token: string | null;
  /** FLB pins: the FLB's compatible when a probe around the get or put names it (`flb=`), else null. */
  flb: string | null;
  /** FLB pins: the handler whose file made the FLB's first (or last) user (`handler=`), when probed. */
  flbHandler: string | null;
  /** Innermost LUO function around the get (luo_preserve_file, luo_flb_file_preserve...). */
  luoFunction: string | null;
  durationNs: number | null;
  incomplete: boolean;
  /** Lost-event gaps of its segment when the get was seen (internal: a gap since makes it incomplete). */
  gapAtGet: number;
  /** The session that owned the get (internal: an incoming session is named only later, at retrieve). */
  owner: { name: string | null } | null;
}

export interface UnmatchedPut {
  module: string;
  segment: number;
  src: number;
  line: number;
  time: number | null;
  callSite: string;
  class: CallSiteClass;
  /** `untraced-load-ref`: do_init_module dropping the load-time ref (expected); `after-gap`: its get was probably lost; `no-get`. */
  reason: 'untraced-load-ref' | 'after-gap' | 'no-get';
  /** The pairing keys it was looked up with (kept to pair it with an earlier file's get: rejoin). */
  keys: string[];
}

const FLB_OUT_SITES = new Set(['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_file_unpreserve', 'luo_flb_file_unpreserve_one', 'liveupdate_flb_put_outgoing']);
const FILE_INCOMING_SITES = new Set(['luo_file_deserialize', 'luo_file_deserialize_one', 'luo_file_finish']);
/** Puts on the error path of the function that took the get: they release the newest get (LIFO). */
const ERROR_PATH_PUTS = new Set(['luo_preserve_file', 'luo_file_deserialize', 'luo_file_deserialize_one', 'luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_retrieve_one']);
/** Stored closed windows per class before only counting (memory bound for huge traces). */
const MAX_CLOSED = 5_000;
/** Open windows of non-LUO references stored (vfs, loader, other) before only counting them. */
const MAX_OPEN_OTHER = 10_000;
/**
 * putLost: windows whose put was lost stored before only counting them per (segment, module);
 * unmatched: puts without a get stored per segment before only counting them (unmatchedPast).
 */
export interface PinLimits {
  putLost: number;
  unmatched: number;
}
const PIN_LIMITS: PinLimits = { putLost: 5_000, unmatched: 5_000 };

function unquote(v: string): string {
  return v.replace(/^"|"$/g, '');
}


export class PinReducer {
  /** The kinds push reads (LuoAnalysis routes only these to it). */
  static readonly kinds: readonly EventKind[] = ['lost', 'module_get', 'module_put'];
  /** (segment, module, key) -> open windows, oldest first */
  private readonly open = new Map<string, PinWindow[]>();
  readonly closed: PinWindow[] = [];
  closedDropped = 0;
  /** Puts without a get, the first PinLimits.unmatched of each segment (rejoin pairs the later file's ones). */
  readonly unmatched: UnmatchedPut[] = [];
  /** Puts without a get stored per segment, and those past PinLimits.unmatched counted by (segment, module, reason, call site). */
  readonly unmatchedPast: CountedPast<{ segment: number; module: string; reason: UnmatchedPut['reason']; callSite: string }>;
  /** Windows whose put was lost (see closePutLost): open, incomplete, out of the pairing pool; the first PinLimits.putLost. */
  private readonly putLost: PinWindow[] = [];
  /** Windows whose put was lost past PinLimits.putLost: (segment, module) -> count (LUO references only: file windows). */
  private readonly putLostOmitted = new Map<string, number>();
  /** Windows still owned by a live session record, by session key (detached when it ends: sessionEnded). */
  private readonly owned = new Map<number, PinWindow[]>();
  /** (segment, file set) -> the open-map keys of file windows taken on that file set. */
  private readonly fileSetKeys = new Map<string, Set<string>>();
  /** Windows whose put came before their get (time went backwards): no duration. */
  readonly backwards = new BackwardSpans();
  /** Lost-event gaps seen per segment so far. */
  private readonly gaps = new Map<number, number>();

  /**
   * Open windows of references LUO does not take (vfs, loader, other) beyond MAX_OPEN_OTHER are
   * counted per key instead of stored (a get never put, repeated, must not grow memory); a put
   * with no stored window takes one of those first.
   */
  private readonly untracked = new Map<string, number>();
  private openOther = 0;
  /** Gets of non-LUO references counted only (see untracked). */
  untrackedGets = 0;

  /** names: the module table's bound, shared with the refcount reducer (module-names.ts); none = unbounded (tests). */
  constructor(
    private readonly calls: LuoCallTracker,
    private readonly sessions: SessionReducer,
    private readonly names: ModuleNames | null = null,
    private readonly limits: PinLimits = PIN_LIMITS,
  ) {
    this.unmatchedPast = new CountedPast(limits.unmatched);
  }

  push(ev: TraceEvent, seg: Segment): void {
    if (ev.kind === 'lost') {
      this.gaps.set(seg.id, (this.gaps.get(seg.id) ?? 0) + 1);
      return;
    }
    if (ev.kind !== 'module_get' && ev.kind !== 'module_put') return;
    const site = bareCallSite(ev.fields.callSite);
    const cls = classifyCallSite(site);
    const stack = this.calls.openCalls(ev.src, ev.pid);
    let fileSet: string | null = null;
    let token: string | null = null;
    let flb: string | null = null;
    let handler: string | null = null;
    for (let i = stack.length - 1; i >= 0; i--) {
      const a = stack[i].args;
      if (fileSet === null && a.file_set) fileSet = a.file_set;
      if (token === null && a.token) token = a.token;
      if (flb === null && a.flb) flb = unquote(a.flb);
      if (handler === null && a.handler) handler = unquote(a.handler);
    }
    const key = this.key(cls, site, fileSet, ev.kind === 'module_get');
    const module = this.names ? this.names.of(ev.fields.module) : ev.fields.module;
    const mapKey = `${seg.id}\u0000${module}\u0000${key}`;
    const luo = isLuoReference({ class: cls });
    if (ev.kind === 'module_get') {
      if (!luo && this.openOther >= MAX_OPEN_OTHER) {
        this.untracked.set(mapKey, (this.untracked.get(mapKey) ?? 0) + 1);
        this.untrackedGets++;
        return;
      }
      if (!luo) this.openOther++;
      const w: PinWindow = {
        module,
        segment: seg.id,
        src: ev.src,
        class: cls,
        flow: cls === 'luo-file' ? (FILE_INCOMING_SITES.has(site) ? 'incoming' : 'outgoing') : cls === 'luo-flb' ? (FLB_OUT_SITES.has(site) ? 'outgoing' : 'incoming') : null,
        getLine: ev.line,
        getTime: ev.time,
        getCallSite: site,
        getPid: ev.pid,
        getComm: ev.comm,
        putLine: null,
        putSrc: null,
        putTime: null,
        putCallSite: null,
        session: null,
        sessionName: null,
        fileSet: cls === 'luo-file' ? fileSet : null,
        token: cls === 'luo-file' ? token : null,
        flb: cls === 'luo-flb' ? flb : null,
        flbHandler: cls === 'luo-flb' ? handler : null,
        luoFunction: stack.length ? stack[stack.length - 1].func : null,
        durationNs: null,
        incomplete: false,
        gapAtGet: this.gaps.get(seg.id) ?? 0,
        owner: null,
      };
      // An FLB pin is the FLB's, not the session whose file happened to be its first user
      // (docs/luo-model.md §1.4, §4 "FLB owner"): it is never charged to a session.
      const owner = cls === 'luo-flb' ? null : this.sessions.sessionOfTask(seg.id, ev.src, ev.pid);
      if (owner) {
        w.session = owner.key;
        w.sessionName = owner.name;
        w.owner = owner;
        let mine = this.owned.get(owner.key);
        if (!mine) this.owned.set(owner.key, (mine = []));
        mine.push(w);
      }
      let list = this.open.get(mapKey);
      if (!list) {
        this.open.set(mapKey, (list = []));
        if (w.fileSet !== null && key !== 'file:?') this.indexFileSet(seg.id, w.fileSet, mapKey);
      }
      list.push(w);
      return;
    }
    // module_put
    const keys = [key];
    // The get may have been taken without a visible file set (no probe around it).
    if (cls === 'luo-file' && fileSet !== null) keys.push(this.key(cls, site, null, false));
    const w = this.take(seg.id, module, keys, site);
    if (w && !isLuoReference(w)) this.openOther--;
    const counted = w ? 0 : (this.untracked.get(mapKey) ?? 0);
    if (counted > 0) {
      // Its get was counted, not stored (MAX_OPEN_OTHER): a matched put without a window.
      if (counted === 1) this.untracked.delete(mapKey);
      else this.untracked.set(mapKey, counted - 1);
      return;
    }
    if (!w) {
      const reason = site === 'do_init_module' ? 'untraced-load-ref' : (this.gaps.get(seg.id) ?? 0) > 0 ? 'after-gap' : 'no-get';
      this.addUnmatched({ module, segment: seg.id, src: ev.src, line: ev.line, time: ev.time, callSite: site, class: cls, reason, keys });
      return;
    }
    this.release(w, ev.src, ev.line, ev.time, site, (this.gaps.get(seg.id) ?? 0) !== w.gapAtGet, flb, handler);
  }

  /** Store a put without a get, or only count it past PinLimits.unmatched in its segment (the count stays exact). */
  private addUnmatched(u: UnmatchedPut): void {
    if (this.unmatchedPast.admit(u.segment)) this.unmatched.push(u);
    else this.unmatchedPast.of({ segment: u.segment, module: u.module, reason: u.reason, callSite: u.callSite }).count++;
  }

  private indexFileSet(segId: number, fileSet: string, mapKey: string): void {
    const k = `${segId}\u0000${fileSet}`;
    let keys = this.fileSetKeys.get(k);
    if (!keys) this.fileSetKeys.set(k, (keys = new Set()));
    keys.add(mapKey);
  }

  /**
   * A session ended (SessionReducer.retire): its windows keep its name, not its record (the session
   * table may drop the record, with its phases and files). An abort (`luo_file_unpreserve_files`) or
   * a finish (`luo_file_finish`) drops one handler reference per file of its file set before it
   * returns (docs/luo-model.md §4 POST "Handler owner"): a window of that file set still open now,
   * with events lost since its get, had its put lost (closePutLost).
   */
  sessionEnded(s: { key: number; name: string | null; segment: number; fileSet: string | null; state: string }): void {
    const mine = this.owned.get(s.key);
    if (mine) {
      for (const w of mine) {
        if (w.sessionName === null) w.sessionName = s.name;
        w.owner = null;
      }
      this.owned.delete(s.key);
    }
    if ((s.state === 'aborted' || s.state === 'finished') && s.fileSet !== null) this.closePutLost(s.segment, s.fileSet);
  }

  /**
   * The file windows of `fileSet` whose put was lost leave the pairing pool: left there, the oldest
   * would be paired FIFO with the put of the next session reusing the file-set address, and they
   * would stay open for ever. Windows without lost events since their get stay (a put the trace
   * should show: still a leak if it never comes). Not a release: listed as open and incomplete.
   */
  private closePutLost(segId: number, fileSet: string): void {
    const k = `${segId}\u0000${fileSet}`;
    const keys = this.fileSetKeys.get(k);
    if (!keys) return;
    const gaps = this.gaps.get(segId) ?? 0;
    for (const mapKey of keys) {
      const list = this.open.get(mapKey);
      if (!list) continue;
      const kept = list.filter((w) => w.gapAtGet === gaps);
      for (const w of list) if (w.gapAtGet !== gaps) this.putLostWindow(w);
      if (kept.length) this.open.set(mapKey, kept);
      else {
        this.open.delete(mapKey);
        keys.delete(mapKey);
      }
    }
    if (keys.size === 0) this.fileSetKeys.delete(k);
  }

  private putLostWindow(w: PinWindow): void {
    w.incomplete = true;
    if (w.owner && w.sessionName === null) w.sessionName = w.owner.name;
    if (this.putLost.length < this.limits.putLost) {
      this.putLost.push(w);
      return;
    }
    const k = `${w.segment}\u0000${w.module}`;
    this.putLostOmitted.set(k, (this.putLostOmitted.get(k) ?? 0) + 1);
  }

  /** What the reducer holds (tests of the bounds): pairable open windows, put-lost ones stored, puts without get stored, sessions with windows attached. */
  retained(): { open: number; putLost: number; unmatched: number; owners: number } {
    let open = 0;
    for (const list of this.open.values()) open += list.length;
    return { open, putLost: this.putLost.length, unmatched: this.unmatched.length, owners: this.owned.size };
  }

  /** Windows whose put was lost past the stored ones, for a segment and module (open LUO pins not listed). */
  putLostOmittedOf(segId: number, module: string): number {
    return this.putLostOmitted.get(`${segId}\u0000${module}`) ?? 0;
  }

  /** The open window a put of `site` releases, looked up by its keys in turn (removed from the open list). */
  private take(segId: number, module: string, keys: string[], site: string): PinWindow | undefined {
    for (const k of keys) {
      const list = this.open.get(`${segId}\u0000${module}\u0000${k}`);
      if (list && list.length) return ERROR_PATH_PUTS.has(site) ? list.pop() : list.shift();
    }
    return undefined;
  }

  private release(w: PinWindow, src: number, line: number, time: number | null, site: string, gap: boolean, flb: string | null = null, handler: string | null = null): void {
    // Incoming sessions get their name at retrieve, after the deserialize get.
    if (w.owner && w.sessionName === null) w.sessionName = w.owner.name;
    if (w.class === 'luo-flb') {
      w.flb ??= flb;
      w.flbHandler ??= handler;
    }
    w.putLine = line;
    w.putSrc = src === w.src ? null : src;
    w.putTime = time;
    w.putCallSite = site;
    w.durationNs = this.backwards.span(w.getTime, time, src, line);
    if (gap) w.incomplete = true;
    if (this.closed.length < MAX_CLOSED) this.closed.push(w);
    else this.closedDropped++;
  }

  /**
   * A later file continues the boot of an earlier one (stream/continuity.ts): its puts that found no
   * get release the windows the earlier file left open, as they would have in one file. Run once per
   * join; a paired put leaves `unmatched`, so running it again changes nothing.
   */
  rejoin(earlier: number, later: number): void {
    const rest: UnmatchedPut[] = [];
    for (const u of this.unmatched) {
      const w = u.segment === later && u.reason !== 'untraced-load-ref' ? this.take(earlier, u.module, u.keys, u.callSite) : undefined;
      if (w) this.release(w, u.src, u.line, u.time, u.callSite, false);
      else rest.push(u);
    }
    this.unmatched.splice(0, this.unmatched.length, ...rest);
  }

  private key(cls: CallSiteClass, site: string, fileSet: string | null, _isGet: boolean): string {
    switch (cls) {
      case 'luo-file':
        return `file:${fileSet ?? '?'}`;
      case 'luo-flb':
        return FLB_OUT_SITES.has(site) ? 'flb:out' : 'flb:in';
      case 'luo-registration':
        return 'reg';
      case 'vfs':
        return 'vfs';
      default:
        return 'other';
    }
  }

  /** Windows still open at the end of the input (gaps after their get make them incomplete). */
  openWindows(): PinWindow[] {
    const out: PinWindow[] = [];
    for (const list of [...this.open.values(), this.putLost]) {
      for (const w of list) {
        if ((this.gaps.get(w.segment) ?? 0) !== w.gapAtGet) w.incomplete = true;
        if (w.owner && w.sessionName === null) w.sessionName = w.owner.name;
        out.push(w);
      }
    }
    return out.sort((a, b) => a.src - b.src || a.getLine - b.getLine);
  }

  /** LUO pins (file/FLB/registration) currently open for a module in a segment. */
  openLuoPins(segId: number, module: string): number {
    let n = 0;
    for (const [k, list] of this.open) {
      const [s, m, key] = k.split('\u0000');
      if (Number(s) === segId && m === module && (key.startsWith('file:') || key.startsWith('flb:') || key === 'reg')) n += list.length;
    }
    for (const w of this.putLost) if (w.segment === segId && w.module === module) n++;
    return n + this.putLostOmittedOf(segId, module);
  }
}
