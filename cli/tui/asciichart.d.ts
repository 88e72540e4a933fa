// asciichart ships no types; this is the part of its API the TUI uses (asciichart.js `plot`).
declare module 'asciichart' {
  export interface PlotConfig {
    min?: number;
    max?: number;
    offset?: number;
    padding?: string;
    height?: number;
    format?: (x: number, i: number) => string;
    symbols?: string[];
    colors?: string[];
  }
  export function plot(series: number[] | number[][], cfg?: PlotConfig): string;
  const asciichart: { plot: typeof plot };
  export default asciichart;
}
