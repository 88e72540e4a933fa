// `luotrace schema [kind]`: the JSON Schema of each JSON output, generated from the zod schemas.
import type { Command } from 'commander';
import { z } from 'zod';
import { ChromeTraceSchema } from '../reports/chrome-trace.js';
import { DiffReportSchema } from '../reports/diff.js';
import { FleetSummarySchema, HostSummarySchema } from '../reports/fleet.js';
import { AnalyzeReportSchema } from '../analyses/report.js';
import { CheckReportSchema, RulesFileSchema } from '../reports/rules.js';
import { InputError } from '../parsers/index.js';
import { EventJsonSchema } from '../parsers/event.js';
import { EventsSummarySchema } from './summary.js';
import { parquetSchemaDocument } from '../reports/parquet/schema.js';

/** `io: 'input'` for documents luotrace reads (a rules file), where defaults make fields optional. */
export const OUTPUT_SCHEMAS: Record<string, { schema: z.ZodType; what: string; io?: 'input' | 'output' }> = {
  analyze: { schema: AnalyzeReportSchema, what: '`luotrace analyze --json`' },
  check: { schema: CheckReportSchema, what: '`luotrace check --json`' },
  diff: { schema: DiffReportSchema, what: '`luotrace diff --json`' },
  'chrome-json': { schema: ChromeTraceSchema, what: '`luotrace export --format chrome-json` (Chrome trace-event JSON)' },
  rules: { schema: RulesFileSchema, what: 'the rules file of `luotrace check --rules FILE` (input)', io: 'input' },
  event: { schema: EventJsonSchema, what: 'one line of `luotrace events` (NDJSON)' },
  'events-summary': { schema: EventsSummarySchema, what: '`luotrace events --summary --json`' },
  'host-summary': { schema: HostSummarySchema, what: '`luotrace host-summary`, and each file of `luotrace fleet --out-dir`' },
  fleet: { schema: FleetSummarySchema, what: '`luotrace fleet --json` and `luotrace merge --json`' },
};

/** The published JSON Schema of one output kind (what `luotrace schema KIND` prints). */
export function jsonSchemaOf(kind: string): Record<string, unknown> {
  const entry = OUTPUT_SCHEMAS[kind];
  return z.toJSONSchema(entry.schema, { io: entry.io ?? 'output', unrepresentable: 'any' }) as Record<string, unknown>;
}

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of a JSON output (no argument: list them)')
    .argument('[kind]', `one of: ${Object.keys(OUTPUT_SCHEMAS).join(', ')}`)
    .action((kind?: string) => {
      if (!kind) {
        for (const [k, v] of Object.entries(OUTPUT_SCHEMAS)) process.stdout.write(`${k.padEnd(16)} ${v.what}\n`);
        process.stdout.write(`${'parquet'.padEnd(16)} the Parquet tables (\`export --format parquet\`, \`fleet --out-format parquet\`): columns and types, not a JSON Schema\n`);
        return;
      }
      if (kind === 'parquet') {
        process.stdout.write(`${JSON.stringify(parquetSchemaDocument(), null, 2)}\n`);
        return;
      }
      const entry = OUTPUT_SCHEMAS[kind];
      if (!entry) throw new InputError('schema', `unknown schema ${kind}; one of: ${Object.keys(OUTPUT_SCHEMAS).join(', ')}`);
      process.stdout.write(`${JSON.stringify(jsonSchemaOf(kind), null, 2)}\n`);
    });
}
