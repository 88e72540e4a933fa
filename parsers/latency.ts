// Latency-format lines (`options/latency-format`, irqsoff/wakeup tracers), docs/trace-formats.md §1.9.
//
// `lat_print_generic` prints "%8.8s-%-7d %3d" (the comm cut to 8 characters), then the flag
// columns glued to the CPU (`0d....`), then `lat_print_timestamp` " %4lldus%c: " — microseconds
// relative to the start of the trace and a mark character. The payload is what the normal format
// prints (function-tracer `foo <-bar`, or the ctx/wakeup `  11:120:R   + [000] …` form).
import type { TraceEvent } from './event.js';
import { type EventContext, decodeRest } from './payloads.js';

// Bounded, anchored groups only: no nested quantifiers to backtrack through.
const LATENCY_LINE = /^\s*(\S(?:.{0,7}?))-(\d+)\s+(\d+)([.a-zA-Z][.a-zA-Z0-9]{3,6})\s+(\d+)us(.):\s?(.*)$/;

export function looksLikeLatencyLine(line: string): boolean {
  return LATENCY_LINE.test(line);
}

/** Decode one latency-format line, or null if it does not have that shape. */
export function parseLatencyLine(line: string, ctxBase: EventContext): TraceEvent | null {
  const m = LATENCY_LINE.exec(line);
  if (!m) return null;
  const ctx: EventContext = {
    ...ctxBase,
    comm: m[1].trim(),
    pid: Number(m[2]),
    cpu: Number(m[3]),
    time: Number(m[5]) * 1000,
  };
  return decodeRest(m[7], ctx);
}
