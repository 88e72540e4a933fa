// Every public sample in samples/formats is read whole (issue 16): the right format is detected, the
// events read equal an independent count of event-shaped lines (regexes written here, not the
// parsers' code), and no event-shaped line is among the skipped ones. Provenance: each sample's
// `.origin.txt`.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InputFormat, TraceEvent } from '../../parsers/event.js';
import { readTraces } from '../../parsers/index.js';
import { readFileSync } from 'node:fs';
import { sample } from '../helpers.js';

/** `comm-pid [(tgid)] [cpu] [flags] secs.usecs: ` (a CSV quote or a trace-cmd `file: ` prefix may precede). */
const FTRACE_LINE = /^"?\s*\S.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d+\]\s+(?:[.a-zA-Z0-9]{3,8}\s*)?\d+(?:\.\d+)?:(?:\s|$)/;
/** function_graph: `[time |] N) [task |] [flags |] [duration |] call` ending in `{`, `;`, `}` or a comment. */
const GRAPH_LINE = /^\s*(?:\d+(?:\.\d+)? (?:us )?\|\s*)?\d+\)\s.*(?:[;{}]|\*\/)\s*$/;
/** Latency format: `comm-pid  CPU+flags  NNus.: ` (lat_print_generic + lat_print_timestamp). */
const LATENCY_LINE = /^\s*\S{1,8}-\d+\s+\d[.a-zA-Z0-9]{4,6}\s+\d+us.:/;
/** perf script sample line: `comm pid[/tid] [[cpu]] [secs.usecs:] [period] event:`. */
const PERF_SAMPLE = /^\s*\S.*?\s\d+(?:\/\d+)?\s+(?:\[\d+\]\s+)?(?:\d+\.\d+:\s+)?(?:\d+\s+)?[\w./-]+(?::[\w.-]+)?:(?:\s|$)/;
/** perf script callchain frame: indented hex address, a symbol. */
const PERF_FRAME = /^\s+[0-9a-f]+ \S/;
/** A bpftrace map line: `@name:`, `@name[key]: value`, `@name[` (a key printed over several lines). */
const BPF_MAP_LINE = /^@\w*(?:\[|:)/;

function isTraceLine(line: string): boolean {
  return FTRACE_LINE.test(line) || GRAPH_LINE.test(line) || LATENCY_LINE.test(line);
}

/** Events in perf script text: sample lines, plus one stack per sample that has frames under it. */
function countPerf(lines: string[]): number {
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    if (PERF_SAMPLE.test(lines[i]) && !PERF_FRAME.test(lines[i])) {
      n++;
      if (i + 1 < lines.length && PERF_FRAME.test(lines[i + 1])) n++;
    }
  }
  return n;
}

/** Maps in bpftrace text: a map starts at an `@name` line unless the previous map line had the same name and only its rows came between. */
function countBpftraceMaps(lines: string[]): number {
  let n = 0;
  let open: string | null = null;
  for (const line of lines) {
    if (BPF_MAP_LINE.test(line)) {
      const name = /^@\w*/.exec(line)![0];
      if (name !== open) n++;
      open = name;
    } else if (line.trim() === '[...]' || (line.trim() !== '' && !/^([[(\]]|,|\s|%|hh:mm)/.test(line))) {
      open = null; // prose, elisions, banners, printf text: the map output ended (rows: hist, tseries, stack keys)
    }
  }
  return n;
}

type Counter = 'trace' | 'perf' | 'bpftrace' | 'bpftrace-json';

/** Every sample, its expected format and how its event-shaped lines are counted. */
const SAMPLES: Record<string, [InputFormat, Counter]> = {
  'kernel_ftrace_rst_function_graph.txt': ['function-graph', 'trace'],
  'kernel_ftrace_rst_irqsoff_display_graph.txt': ['latency', 'trace'],
  'kernel_ftrace_rst_wakeup_rt_events.txt': ['latency', 'trace'],
  'perf_script_flamegraph_cycles_instructions.txt': ['perf-script', 'perf'],
  'perf_script_flamegraph_funcab_cmd.txt': ['perf-script', 'perf'],
  'perf_script_flamegraph_java_faults.txt': ['perf-script', 'perf'],
  'perf_script_flamegraph_js_stacks.txt': ['perf-script', 'perf'],
  'perf_script_lock_contention_lkml.txt': ['perf-script', 'perf'],
  'perfetto_bad_print.systrace': ['trace-pipe', 'trace'],
  'perfetto_cpu_frequency_limits.systrace': ['trace-pipe', 'trace'],
  'perfetto_sched_blocked_reason_symbolized_to_systrace.txt': ['trace-pipe', 'trace'],
  'perfetto_sched_blocked_systrace.systrace': ['trace-pipe', 'trace'],
  'perfetto_unknown_thread_name.systrace': ['trace-pipe', 'trace'],
  'perftools_funcgraph_example.txt': ['function-graph', 'trace'],
  'perftools_functrace_example.txt': ['ftrace', 'trace'],
  'perftools_kprobe_example.txt': ['ftrace', 'trace'],
  'perftools_tpoint_example.txt': ['ftrace', 'trace'],
  'perftools_uprobe_example.txt': ['ftrace', 'trace'],
  'snippets_verbatim_lines.txt': ['ftrace', 'trace'],
  'tracecmd_report_doc_examples.txt': ['trace-cmd', 'trace'],
  'tracecmd_report_kernel_stack_lkml.txt': ['trace-cmd', 'trace'],
  'tracecmd_trappy_trace_not_raw.txt': ['trace-cmd', 'trace'],
};

function expectation(file: string): [InputFormat, Counter] {
  const known = SAMPLES[file];
  if (known) return known;
  if (file.startsWith('bpftrace_')) return /\.(nd)?json$/.test(file) ? ['bpftrace-json', 'bpftrace-json'] : ['bpftrace', 'bpftrace'];
  throw new Error(`${file}: add it to SAMPLES`);
}

function countEvents(counter: Counter, text: string): number {
  const lines = text.split('\n');
  switch (counter) {
    case 'trace':
      return lines.filter(isTraceLine).length;
    case 'perf':
      return countPerf(lines);
    case 'bpftrace':
      return countBpftraceMaps(lines);
    case 'bpftrace-json':
      // Each map of a record's `data` is one event; map names are the only keys that start with `@`.
      return (text.match(/"@\w*"\s*:/g) ?? []).length;
  }
}

function eventShaped(counter: Counter, line: string): boolean {
  if (counter === 'perf') return PERF_SAMPLE.test(line) || PERF_FRAME.test(line);
  if (counter === 'bpftrace') return BPF_MAP_LINE.test(line);
  return isTraceLine(line);
}

const files = readdirSync(sample('formats')).filter((f) => !f.endsWith('.origin.txt'));

describe('samples/formats: every public sample read whole', () => {
  it('each sample has its provenance note and an expectation here', () => {
    const all = readdirSync(sample('formats'));
    for (const f of files) {
      expect(all).toContain(`${f}.origin.txt`);
      expect(() => expectation(f)).not.toThrow();
    }
    expect(files.length).toBe(Object.keys(SAMPLES).length + files.filter((f) => f.startsWith('bpftrace_')).length);
  });

  it.each(files)('%s', async (file) => {
    const [format, counter] = expectation(file);
    const path = sample(`formats/${file}`);
    const events: TraceEvent[] = [];
    const skipped: string[] = [];
    const r = await readTraces([path], (e) => events.push(e), {
      onLedger: (ledger) => {
        ledger.listener = (what, _reason, _file, _line, text) => {
          if (what === 'skipped') skipped.push(text ?? '');
        };
      },
    });
    expect(r.sources[0].format).toBe(format);
    const read = events.filter((e) => e.kind !== 'lost');
    expect(read.length).toBe(countEvents(counter, readFileSync(path, 'utf8')));
    expect(skipped.filter((line) => eventShaped(counter, line))).toEqual([]);
    // Every line is accounted for: an event, a known non-event line, or skipped with a reason.
    const q = r.quality.lines;
    const accounted = q.events + Object.values(q.known).reduce((a, b) => a + b, 0) + Object.values(q.skipped).reduce((a, b) => a + b, 0);
    expect(accounted).toBe(q.total);
  });
});
