// LUO analyses entry point: kernel model, sessions and phases, module pin windows, refcount balance
// and verdicts (issue #3). Placeholder section until those reducers land: it reports the kernel
// model evidence only.
import { z } from 'zod';
import type { TraceEvent } from '../parsers/event.js';
import type { FinishContext, Reducer } from './reducer.js';

export const LuoSectionSchema = z.object({
  kernelModel: z.object({ id: z.string().nullable(), evidence: z.array(z.string()) }),
  sessions: z.array(z.object({ name: z.string().nullable() }).passthrough()),
  modules: z.array(z.object({ name: z.string() }).passthrough()),
  verdicts: z.array(z.object({ id: z.string(), ok: z.boolean(), message: z.string(), evidence: z.array(z.number()) }).passthrough()),
});
export type LuoSection = z.infer<typeof LuoSectionSchema>;

export interface LuoOptions {
  kernelModel?: string;
}

export function createLuoAnalysis(_opts: LuoOptions = {}): Reducer<LuoSection> {
  return {
    push(_ev: TraceEvent) {},
    finish(_ctx: FinishContext): LuoSection {
      return { kernelModel: { id: null, evidence: [] }, sessions: [], modules: [], verdicts: [] };
    },
  };
}
