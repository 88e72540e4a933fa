// Dense numbers for the LUO functions a trace probes, and what each one is, looked up once per name.
//
// Every LUO call edge asks the same questions of its function: its phase (kernel/phases.ts), whether
// its return can be lost with lost events (luo-calls.ts RETURN_LOST_FUNCTIONS) or it can enclose such
// a call, and which session step it is (luo/sessions.ts). A trace probes a few dozen functions and
// hundreds of thousands of edges, so the call tracker numbers each function once (OpenCall.fid) and
// the readers ask tables by that number instead of comparing and hashing its name on every edge
// (issue 17). The functions the readers switch on have fixed numbers (below); any other LUO function
// gets the next free number of its tracker.
import { PHASE_OF_FUNCTION, type PhaseName } from '../kernel/phases.js';
import { own } from '../../parsers/name-table.js';

/** The functions a reader tells apart by number: their numbers are their places here. */
const FIXED = [
  'luo_session_create',
  'luo_session_retrieve',
  'luo_preserve_file',
  'luo_file_unpreserve_files',
  'luo_retrieve_file',
  'luo_file_finish',
  'luo_file_freeze',
  'luo_file_unfreeze',
  'luo_file_deserialize',
  'liveupdate_reboot',
  'luo_session_serialize',
  'luo_flb_serialize',
  'luo_session_deserialize',
  'luo_flb_file_preserve',
] as const;

export const FN_SESSION_CREATE = 0;
export const FN_SESSION_RETRIEVE = 1;
export const FN_PRESERVE_FILE = 2;
export const FN_FILE_UNPRESERVE_FILES = 3;
export const FN_RETRIEVE_FILE = 4;
export const FN_FILE_FINISH = 5;
export const FN_FILE_FREEZE = 6;
export const FN_FILE_UNFREEZE = 7;
export const FN_FILE_DESERIALIZE = 8;
export const FN_REBOOT = 9;
export const FN_SESSION_SERIALIZE = 10;
export const FN_FLB_SERIALIZE = 11;
export const FN_SESSION_DESERIALIZE = 12;
export const FN_FLB_FILE_PRESERVE = 13;

/** The number of one of the fixed functions (tests check the constants above against it). */
export function fixedFunctionId(name: (typeof FIXED)[number]): number {
  return FIXED.indexOf(name);
}

/** The per-session functions that never call one another (luo-calls.ts RETURN_LOST_FUNCTIONS). */
const RETURN_LOST_IDS: readonly number[] = [
  FN_SESSION_CREATE,
  FN_SESSION_RETRIEVE,
  FN_PRESERVE_FILE,
  FN_FILE_UNPRESERVE_FILES,
  FN_RETRIEVE_FILE,
  FN_FILE_FINISH,
  FN_FILE_FREEZE,
  FN_FILE_UNFREEZE,
  FN_FILE_DESERIALIZE,
];

/** The names of RETURN_LOST_IDS (luo-calls.ts exports them as RETURN_LOST_FUNCTIONS). */
export const RETURN_LOST_NAMES: readonly string[] = RETURN_LOST_IDS.map((id) => FIXED[id]);

/** One tracker's numbering: names by number, and what each number is. Grows with the functions a trace probes. */
export class FunctionIds {
  private readonly ids = new Map<string, number>();
  /** The function of each number. */
  readonly names: string[] = [];
  /** Each number's phase (PHASE_OF_FUNCTION), null when it opens none. */
  readonly phase: Array<PhaseName | null> = [];
  /** 1: a RETURN_LOST_FUNCTIONS function. */
  private returnLost = new Uint8Array(64);

  constructor(encloses: ReadonlySet<string>) {
    this.encloses = encloses;
    for (const name of FIXED) this.add(name);
    for (const id of RETURN_LOST_IDS) this.returnLost[id] = 1;
  }

  private readonly encloses: ReadonlySet<string>;
  /** 1: a function a RETURN_LOST_FUNCTIONS call can run inside (luo-calls.ts ENCLOSES_SESSION_CALLS). */
  private enclosing = new Uint8Array(64);

  /** The number of a LUO function, given one on first sight. */
  of(name: string): number {
    return this.ids.get(name) ?? this.add(name);
  }

  isReturnLost(id: number): boolean {
    return this.returnLost[id] === 1;
  }

  isEnclosing(id: number): boolean {
    return this.enclosing[id] === 1;
  }

  private add(name: string): number {
    const id = this.names.length;
    this.ids.set(name, id);
    this.names.push(name);
    this.phase.push(own(PHASE_OF_FUNCTION, name) ?? null);
    if (id === this.enclosing.length) {
      this.enclosing = grown(this.enclosing);
      this.returnLost = grown(this.returnLost);
    }
    if (this.encloses.has(name)) this.enclosing[id] = 1;
    return id;
  }
}

function grown(a: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}
