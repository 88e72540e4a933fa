// The bpftrace maps section of `analyze`: collected from real stats output, summarized, rendered.
import { describe, expect, it } from 'vitest';
import { bucketAt, createBpftraceMapsAnalysis } from '../../analyses/bpftrace-maps.js';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import { bucketLabel, renderBpftraceMapsText } from '../../cli/render-bpftrace-maps.js';
import { parseFiles, sample } from '../helpers.js';

describe('bpftrace maps section', () => {
  it('real stats output: every map, with its source line, and a median/p99 bucket per histogram', async () => {
    const r = await parseFiles([sample('real/lifecycle/stage1/bpftrace-stats.txt')]);
    const red = createBpftraceMapsAnalysis();
    for (const ev of r.events) red.push(ev);
    const s = red.finish({ sources: r.sources, quality: r.quality });
    expect(s.bpftraceMaps).toHaveLength(14);
    const preserve = s.bpftraceMaps.find((m) => m.map === '@preserve_ns');
    // [8M,16M) 2, [16M,32M) 4, [32M,64M) 2: 8 samples, the 4th is in [16M,32M), the 8th in [32M,64M).
    expect(preserve?.histSummaries[0]).toEqual({
      total: 8,
      p50: { min: 16 * 2 ** 20, max: 32 * 2 ** 20 - 1, count: 4 },
      p99: { min: 32 * 2 ** 20, max: 64 * 2 ** 20 - 1, count: 2 },
    });
    expect(preserve?.line).toBe(74);
    const calls = s.bpftraceMaps.find((m) => m.map === '@calls');
    expect(calls?.histSummaries.every((h) => h === null)).toBe(true);
  });

  it('bucketAt is null for an empty histogram', () => {
    expect(bucketAt([], 0.5)).toBeNull();
    expect(bucketAt([{ min: 0, max: 0, count: 0 }], 0.5)).toBeNull();
  });

  it('analyze: the section is in the JSON report (schema-valid) and rendered in the text report', async () => {
    const report = await runAnalysis([sample('real/abort/stage1/bpftrace-stats.txt'), sample('formats/bpftrace_testout_stats_multiple.json')], {});
    expect(AnalyzeReportSchema.safeParse(report).success).toBe(true);
    expect(report.bpftraceMaps.map((m) => m.map)).toContain('@rwsem_hold_ns');
    expect(report.bpftraceMaps.at(-1)?.file).toMatch(/bpftrace_testout_stats_multiple\.json$/);
    const text = renderBpftraceMapsText(report);
    expect(text).toMatch(/^@module_put {2}\(.*bpftrace-stats\.txt:\d+, 5 entries\)$/m);
    expect(text).toMatch(/^ {2}luo_demo, luo_file_unpreserve_files +3$/m);
    expect(text).toMatch(/^ @preserve_ns: \d+ samples, median in \[\d+M, \d+M\), p99 in \[\d+M, \d+M\)$/m);
    expect(text).toMatch(/^ {2}key +count +average +total$/m);
    expect(text).toMatch(/^ {2}zsh +1 +10 +10$/m);
  });

  it('bucket labels read like bpftrace', () => {
    expect(bucketLabel({ min: 1024, max: 2047, count: 1 })).toBe('[1K, 2K)');
    expect(bucketLabel({ min: null, max: -1, count: 1 })).toBe('(..., 0)');
    expect(bucketLabel({ min: 100, max: null, count: 1 })).toBe('[100, ...)');
    expect(bucketLabel({ min: 3, max: 3, count: 1 })).toBe('[3]');
    expect(bucketLabel({ min: 16, max: 17, count: 1 })).toBe('[16, 18)');
  });
});
