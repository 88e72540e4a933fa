// The renderer of each output format (render.ts: ftrace, trace-pipe, trace-cmd, console;
// render-bpftrace.ts: bpftrace text and JSON).
import { BpftraceJsonRenderer, BpftraceRenderer } from './render-bpftrace.js';
import { ConsoleRenderer, FtraceRenderer, type Renderer, type RenderOptions, TraceCmdRenderer } from './render.js';

export function makeRenderer(o: RenderOptions): Renderer {
  switch (o.format) {
    case 'ftrace':
    case 'trace-pipe':
      return new FtraceRenderer(o);
    case 'trace-cmd':
      return new TraceCmdRenderer(o);
    case 'bpftrace':
      return new BpftraceRenderer(o);
    case 'bpftrace-json':
      return new BpftraceJsonRenderer(o);
    case 'console':
      return new ConsoleRenderer(o);
  }
}
