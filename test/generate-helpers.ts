// Helpers for the generator tests: run the generator in-process, read real captures line by line.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type GenerateOptions, type GenerateStats, generateChunks } from '../samples/generate/core.js';
import { sample } from './helpers.js';

export interface Generated {
  buf: Buffer;
  text: string;
  lines: string[];
  stats: GenerateStats;
}

export function gen(opts: GenerateOptions): Generated {
  const parts: Buffer[] = [];
  const it = generateChunks(opts);
  for (;;) {
    const r = it.next();
    if (r.done) {
      const buf = Buffer.concat(parts);
      const text = buf.toString('latin1');
      return { buf, text, lines: splitLines(text), stats: r.value };
    }
    parts.push(Buffer.from(r.value));
  }
}

/** Lines as the input layer cuts them: LF ends (a CR before it dropped), a last line without LF still counts. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function realLines(rel: string): string[] {
  const raw = readFileSync(sample(rel));
  const data = rel.endsWith('.gz') ? gunzipSync(raw) : raw;
  return splitLines(data.toString('utf8'));
}
