// `luotrace schema [kind]`: the JSON Schema of each JSON output, generated from the zod schemas.
import type { Command } from 'commander';
import { z } from 'zod';
import { AnalyzeReportSchema } from '../analyses/report.js';
import { EventJsonSchema } from '../parsers/event.js';
import { EventsSummarySchema } from './summary.js';

export const OUTPUT_SCHEMAS: Record<string, { schema: z.ZodType; what: string }> = {
  analyze: { schema: AnalyzeReportSchema, what: '`luotrace analyze --json`' },
  event: { schema: EventJsonSchema, what: 'one line of `luotrace events` (NDJSON)' },
  'events-summary': { schema: EventsSummarySchema, what: '`luotrace events --summary --json`' },
};

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of a JSON output (no argument: list them)')
    .argument('[kind]', `one of: ${Object.keys(OUTPUT_SCHEMAS).join(', ')}`)
    .action((kind?: string) => {
      if (!kind) {
        for (const [k, v] of Object.entries(OUTPUT_SCHEMAS)) process.stdout.write(`${k.padEnd(16)} ${v.what}\n`);
        return;
      }
      const entry = OUTPUT_SCHEMAS[kind];
      if (!entry) {
        const err = new Error(`unknown schema ${kind}; one of: ${Object.keys(OUTPUT_SCHEMAS).join(', ')}`);
        throw Object.assign(err, { usage: true });
      }
      process.stdout.write(`${JSON.stringify(z.toJSONSchema(entry.schema, { io: 'output', unrepresentable: 'any' }), null, 2)}\n`);
    });
}
