// Event kinds as small numbers: the ordered stream is dispatched once per event on its kind's number
// (reducer.ts feedInOrder, luo/luo.ts push), and each reader declares the kinds it reads, so an event
// reaches only the readers of its kind instead of every reader comparing kind strings (issue 17).
// The number is looked up from the kind string once per event; it is not stored on the event
// (`luotrace events` prints events as they are).
import type { EventKind } from '../../parsers/event.js';

/** Every kind and its number. A Record over EventKind: the compiler refuses a kind left out. */
const NUMBERS: Readonly<Record<EventKind, number>> = Object.freeze({
  module_get: 0,
  module_put: 1,
  module_load: 2,
  module_free: 3,
  module_request: 4,
  contention_begin: 5,
  contention_end: 6,
  lock_acquire: 7,
  lock_release: 8,
  lock_contended: 9,
  lock_acquired: 10,
  contended_release: 11,
  kprobe: 12,
  fentry: 13,
  kretprobe: 14,
  fexit: 15,
  function: 16,
  funcgraph_entry: 17,
  funcgraph_exit: 18,
  funcgraph_leaf: 19,
  marker: 20,
  printk: 21,
  boot: 22,
  sched_switch: 23,
  syscall_enter: 24,
  syscall_exit: 25,
  stack: 26,
  sample: 27,
  bpftrace: 28,
  generic: 29,
  lost: 30,
  bpftrace_map: 31,
});

/** The number of a string no kind has (a hostile or future kind): read only by the readers of every kind. */
export const OTHER_KIND = 32;
/** Size of a table indexed by kind number (OTHER_KIND included). */
export const KIND_SLOTS = OTHER_KIND + 1;

const byName = new Map<string, number>(Object.entries(NUMBERS));

/**
 * kindId's table: each kind in the slot of a cheap hash of its length and two characters (no two of
 * today's kinds share one; a kind added later that collides is found in `byName` instead). Parsers
 * set `kind` from string literals, so a hit is one identity comparison where a Map lookup hashed
 * the string and probed a table on every event of the stream (issue 17).
 */
const SLOT_BITS = 6;
const KIND_AT = new Array<string>(1 << SLOT_BITS).fill('');
const NUMBER_AT = new Int32Array(1 << SLOT_BITS).fill(OTHER_KIND);

function kindSlot(kind: string): number {
  const n = kind.length;
  return (n * 21 + kind.charCodeAt(n - 2) * 11 + kind.charCodeAt(0)) & ((1 << SLOT_BITS) - 1);
}

for (const [kind, n] of byName) {
  const slot = kindSlot(kind);
  if (KIND_AT[slot] !== '') continue;
  KIND_AT[slot] = kind;
  NUMBER_AT[slot] = n;
}

/** The number of an event's kind. */
export function kindId(kind: string): number {
  if (kind.length < 2) return byName.get(kind) ?? OTHER_KIND;
  const slot = kindSlot(kind);
  if (KIND_AT[slot] === kind) return NUMBER_AT[slot];
  return byName.get(kind) ?? OTHER_KIND;
}

/** The kinds kindId finds in its table (the rest go through the Map): every kind today (tests). */
export function kindsInTable(): number {
  return KIND_AT.filter((k) => k !== '').length;
}

/** The number of a kind known at compile time (for a reader's own switch). */
export function kindNumber(kind: EventKind): number {
  return NUMBERS[kind];
}

/** A table by kind number: 1 for the kinds given (what a reader declares it reads), else 0. */
export function kindMask(kinds: readonly EventKind[]): Uint8Array {
  const mask = new Uint8Array(KIND_SLOTS);
  for (const k of kinds) mask[NUMBERS[k]] = 1;
  return mask;
}
