// `luotrace events FILE...`: the normalized event stream as NDJSON, or `--summary` counts and the
// data-quality table (text or `--json`).
import type { Command } from 'commander';
import type { SourceClock } from '../parsers/clock.js';
import type { TraceEvent } from '../parsers/event.js';
import { readTraces } from '../parsers/index.js';
import { assertUsable } from '../analyses/pipeline.js';
import { BufferedWriter } from './output.js';
import { parseFormat } from '../analyses/pipeline.js';
import { formatOption } from './options.js';
import { buildSummary, renderSummaryText } from './summary.js';
import { visible, visibleText } from './visible.js';

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('print the normalized events as NDJSON, or counts and data quality with --summary')
    .argument('<files...>', 'trace files (.gz accepted), or - for stdin')
    .option('-s, --summary', 'print per-event counts and the data-quality table instead of events')
    .option('--json', 'with --summary: one JSON document')
    .option('--skipped', 'print the lines that are not events, with the reason (file:line: reason: text)')
    .addOption(formatOption())
    .action(async (files: string[], opts: { summary?: boolean; json?: boolean; format?: string; skipped?: boolean }) => {
      const out = new BufferedWriter();
      const format = parseFormat(opts.format);
      if (opts.skipped) {
        await readTraces(files, () => {}, {
          format,
          onLedger: (ledger) => {
            ledger.listener = (what, reason, file, line, text) => {
              if (what === 'skipped' || reason === 'continuation') {
                out.write(`${visible(file)}:${line}: ${what === 'skipped' ? reason : `known ${reason}`}${text === undefined ? '' : `: ${visible(text)}`}\n`);
              }
            };
          },
        });
        await out.flush();
        return;
      }
      if (opts.summary) {
        const result = await readTraces(files, () => {}, { format });
        const summary = buildSummary(result);
        out.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : visibleText(renderSummaryText(summary)));
        await out.flush();
        // The summary is printed (it says how each line was read), and the input is still unusable.
        assertUsable(result, 'see the data-quality table of the summary');
        return;
      }
      const names: string[] = [];
      const clocks: SourceClock[] = [];
      const read = await readTraces(
        files,
        (ev) => {
          if (out.isClosed) return;
          out.write(`${eventToJson(ev, names[ev.src], clocks[ev.src].timeBase)}\n`);
        },
        {
          format,
          onSourceStart: (src, file, clock) => {
            names[src] = file;
            clocks[src] = clock;
          },
        },
      );
      await out.flush();
      assertUsable(read, 'nothing to print (`luotrace events --summary` says how each line was read)');
    });
}

/** One event as its JSON line (EventJsonSchema): `src` becomes the file name. */
export function eventToJson(ev: TraceEvent, fileName: string, timeBase: string): string {
  const o: Record<string, unknown> = {
    time: ev.time,
    cpu: ev.cpu,
    pid: ev.pid,
    tgid: ev.tgid,
    comm: ev.comm,
    file: fileName,
    line: ev.line,
    name: ev.name,
    kind: ev.kind,
    fields: ev.fields,
  };
  if (timeBase !== '0') o.timeBase = timeBase;
  return JSON.stringify(o);
}
