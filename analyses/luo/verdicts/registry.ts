// The verdicts, in the order the report lists them (what a user reads first: pins, registration,
// refcounts, unloads, phases, kexec, then data completeness). The pipeline evaluates them once per
// report, after the report filters (analyses/pipeline.ts); `check` enforces the ones with a `rule`,
// in the order of CHECK_VERDICTS (reports/rules.ts).
import type { DataQuality } from '../../../parsers/quality.js';
import type { Verdict } from '../schema.js';
import { kexecFreeze, kexecHandover } from './kexec.js';
import { noLostEvents } from './lost-events.js';
import { phaseErrors } from './phases.js';
import { noPinsOutsideSessions } from './pins-outside.js';
import { refcountsBalanced } from './refcounts.js';
import { noUnregisterErrors, registrationErrors } from './registrations.js';
import { noForcedUnloadWithPins, rmmod } from './unload.js';
import { modulesUnpinnedAfterFinish } from './unpinned.js';
import { type Section, type VerdictDefinition, type VerdictResult, toVerdictJson } from './verdict.js';

export const VERDICTS: readonly VerdictDefinition[] = [
  modulesUnpinnedAfterFinish,
  noPinsOutsideSessions,
  noUnregisterErrors,
  registrationErrors,
  refcountsBalanced,
  noForcedUnloadWithPins,
  rmmod,
  phaseErrors,
  kexecFreeze,
  kexecHandover,
  noLostEvents,
];

/** The verdicts `check` enforces, in the order it lists them. */
export const CHECK_VERDICTS = [modulesUnpinnedAfterFinish, refcountsBalanced, noPinsOutsideSessions, noUnregisterErrors, noForcedUnloadWithPins, noLostEvents, kexecFreeze] as const;
export type CheckVerdictId = (typeof CHECK_VERDICTS)[number]['id'];

export function verdictDefinition(id: string): VerdictDefinition | undefined {
  return VERDICTS.find((d) => d.id === id);
}

/** Every verdict's typed results over one section. */
export function evaluateVerdictResults(section: Section, quality: DataQuality): VerdictResult[] {
  return VERDICTS.flatMap((d) => d.evaluate(section, quality));
}

/** The report's verdicts (JSON form). */
export function evaluateVerdicts(section: Section, quality: DataQuality): Verdict[] {
  return evaluateVerdictResults(section, quality).map(toVerdictJson);
}
