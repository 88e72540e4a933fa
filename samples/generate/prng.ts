// Seeded PRNG for the synthetic trace generator: sfc32 (Chris Doty-Humphrey's Small Fast Counter,
// as in PractRand), chosen because it is tiny, fast on 32-bit integer ops and passes BigCrush; the
// same seed always gives the same trace, byte for byte.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ stream;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162 ^ Math.imul(stream, 0x85ebca6b);
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * A duration in ns around `median`, log-normally spread (TCG timings have long tails). The
   * factor comes from a 4096-entry table per spread (built once from sums of three uniforms, a
   * bounded stand-in for a normal deviate): one PRNG draw and no exp() per event.
   */
  delay(median: number, spread = 0.6): number {
    let table = FACTORS.get(spread);
    if (table === undefined) table = factorTable(spread);
    const v = Math.round(median * table[this.u32() & 4095]);
    return v < 1000 ? 1000 : v;
  }
}

const FACTORS = new Map<number, Float64Array>();

function factorTable(spread: number): Float64Array {
  // A fixed generator so every Rng (any seed) shares the same table.
  const g = new Rng(0x5eed, 99);
  const t = new Float64Array(4096);
  for (let i = 0; i < t.length; i++) t[i] = Math.exp(spread * (g.float() + g.float() + g.float() - 1.5) * 2);
  FACTORS.set(spread, t);
  return t;
}
