// Lock analyses (issue #4): rwsem and mutex hold and wait times, contention, owners, percentiles.
// Placeholder until the lock reducers land: reports no locks.
import { z } from 'zod';
import type { TraceEvent } from '../parsers/event.js';
import type { SymbolTable } from '../parsers/kallsyms.js';
import type { LuoCallTracker } from './luo-calls.js';
import type { FinishContext, Reducer } from './reducer.js';

export const LocksSectionSchema = z.object({
  locks: z.array(z.object({ name: z.string().nullable(), address: z.string().nullable(), mode: z.string() }).passthrough()),
});
export type LocksSection = z.infer<typeof LocksSectionSchema>;

export interface LockOptions {
  symbols?: SymbolTable | null;
  /** Shared call tracker (fed by the analyze pipeline before this reducer sees each event). */
  calls?: LuoCallTracker;
}

export function createLockAnalysis(_opts: LockOptions = {}): Reducer<LocksSection> {
  return {
    push(_ev: TraceEvent) {},
    finish(_ctx: FinishContext): LocksSection {
      return { locks: [] };
    },
  };
}
