// Write a large JSON value piece by piece (2-space indented like JSON.stringify(v, null, 2)), so a
// report with tens of thousands of rows never becomes one giant string in memory.
import type { BufferedWriter } from './output.js';

/** Below this depth containers are walked; deeper values are stringified whole (they are small). */
const WALK_DEPTH = 3;

export function writeJson(out: BufferedWriter, value: unknown, depth = 0, indent = ''): void {
  if (depth >= WALK_DEPTH || value === null || typeof value !== 'object') {
    const text = JSON.stringify(value, null, 2);
    out.write(text === undefined ? 'null' : indent ? text.replace(/\n/g, `\n${indent}`) : text);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.write('[]');
      return;
    }
    out.write('[\n');
    value.forEach((v, i) => {
      out.write(inner);
      writeJson(out, v, depth + 1, inner);
      out.write(i + 1 < value.length ? ',\n' : '\n');
    });
    out.write(`${indent}]`);
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    out.write('{}');
    return;
  }
  out.write('{\n');
  entries.forEach(([k, v], i) => {
    out.write(`${inner}${JSON.stringify(k)}: `);
    writeJson(out, v, depth + 1, inner);
    out.write(i + 1 < entries.length ? ',\n' : '\n');
  });
  out.write(`${indent}}`);
}
