// `luotrace merge SUMMARY...`: host summaries (`fleet --out-dir`, `host-summary`) and fleet
// summaries (`fleet --json`, `merge --json`) merged into one fleet summary: the same figures as
// one `luotrace fleet` run over all those hosts (reports/fleet.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  type FleetSummary,
  FleetSummarySchema,
  type HostSummary,
  HostSummarySchema,
  mergeSummaries,
  SUMMARY_FORMAT_VERSION,
  SummaryMergeError,
} from '../reports/fleet.js';
import { InputError } from '../parsers/index.js';
import { printFleet } from './fleet.js';
import { TOOL_VERSION } from '../analyses/version.js';
import { engineOption } from './fleet/sql.js';
import { mergeBySql } from './parquet/merge-sql.js';
import { defaultRunId } from './export/parquet.js';

/** Files named on the command line; a folder stands for its *.json files in name order. */
function summaryFiles(args: string[]): string[] {
  const files: string[] = [];
  for (const a of args) {
    let st;
    try {
      st = statSync(a);
    } catch {
      throw new InputError(a, 'no such file or directory');
    }
    if (!st.isDirectory()) {
      files.push(a);
      continue;
    }
    const inDir = readdirSync(a)
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .sort()
      .map((n) => join(a, n));
    if (!inDir.length) throw new InputError(a, 'no *.json summaries in this folder');
    files.push(...inDir);
  }
  return files;
}

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || '(top)'}: ${i.message}` : e.message;
}

/** Read and validate one summary document. */
export function readSummary(file: string): HostSummary | FleetSummary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `not JSON: ${(e as Error).message}`);
  }
  const kind = (doc as { kind?: unknown } | null)?.kind;
  const schema = kind === 'luotrace-host-summary' ? HostSummarySchema : kind === 'luotrace-fleet-summary' ? FleetSummarySchema : null;
  if (!schema) throw new InputError(file, 'not a luotrace host or fleet summary (made by `luotrace fleet --out-dir`, `host-summary`, `fleet --json` or `merge --json`)');
  const version = (doc as { formatVersion?: unknown }).formatVersion;
  if (version !== SUMMARY_FORMAT_VERSION) throw new InputError(file, `summary format version ${String(version)}; this luotrace reads version ${SUMMARY_FORMAT_VERSION}`);
  const r = schema.safeParse(doc);
  if (!r.success) throw new InputError(file, `not a valid ${kind}: ${firstIssue(r.error)}`);
  return r.data;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('merge host summaries and fleet summaries into one fleet summary')
    .argument('<summaries...>', 'JSON from `fleet --out-dir` / `host-summary` (one host) or `fleet --json` / `merge --json` (many); a folder = its *.json files')
    .option('--json', 'print the merged fleet summary as JSON (see `luotrace schema fleet`)')
    .option('--limit <n>', 'rows shown per list in the text summary', '20')
    .addOption(engineOption())
    .addHelpText('after', '\nA host may appear only once across all inputs: merging it twice would count it twice.\nWith --engine sql an input may also be a folder of Parquet tables (`export --format parquet`, `fleet --out-format parquet`).')
    .action(async (args: string[], opts: { json?: boolean; limit: string; engine: 'merge' | 'sql' }) => {
      if (opts.engine === 'sql') {
        await printFleet(await mergeBySql(args, defaultRunId(), (a) => summaryFiles(a).map((from) => ({ from, doc: readSummary(from) }))), opts);
        return;
      }
      const docs = summaryFiles(args).map((from) => ({ from, doc: readSummary(from) }));
      let merged: FleetSummary;
      try {
        merged = mergeSummaries(docs, { name: 'luotrace', version: TOOL_VERSION });
      } catch (e) {
        if (e instanceof SummaryMergeError) throw new InputError('merge', e.message);
        throw e;
      }
      await printFleet(merged, opts);
    });
}
