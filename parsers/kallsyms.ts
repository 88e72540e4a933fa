// /proc/kallsyms and System.map: `address type name [module]` per line.
//
// Used to turn raw addresses into symbols: kprobe `sem=`/`mod=` arguments, trace-cmd's entry-probe
// locations `(ffffffff813024a4)`, and lock pointers printed raw by trace-cmd and bpftrace
// (real README O2). Hashed tracefs pointers cannot be resolved this way. With CONFIG_KALLSYMS_ALL,
// data symbols such as `luo_register_rwlock` and `luo_session_global` are listed too.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { InputError, describeFsError } from './input.js';

export interface SymbolHit {
  name: string;
  offset: number;
  module: string | null;
}

export class SymbolTable {
  private addrs: bigint[] = [];
  private names: string[] = [];
  private modules: Array<string | null> = [];
  private sorted = true;
  readonly byName = new Map<string, bigint>();

  get size(): number {
    return this.addrs.length;
  }

  add(addr: bigint, name: string, module: string | null = null): void {
    const n = this.addrs.length;
    if (n > 0 && this.addrs[n - 1] > addr) this.sorted = false;
    this.addrs.push(addr);
    this.names.push(name);
    this.modules.push(module);
    if (!this.byName.has(name)) this.byName.set(name, addr);
  }

  /** Parse kallsyms / System.map text; returns the number of symbols read. */
  addText(text: string): number {
    let count = 0;
    for (const line of text.split('\n')) if (this.addLine(line)) count++;
    return count;
  }

  addLine(line: string): boolean {
    const m = /^([0-9a-fA-F]{8,16})\s+(\S)\s+(\S+)(?:\s+\[(\S+)\])?/.exec(line);
    if (!m) return false;
    const addr = BigInt(`0x${m[1]}`);
    if (addr === 0n) return false; // kptr_restrict hides addresses as zeros
    this.add(addr, m[3], m[4] ?? null);
    return true;
  }

  private ensureSorted(): void {
    if (this.sorted) return;
    const idx = this.addrs.map((_, i) => i).sort((a, b) => (this.addrs[a] < this.addrs[b] ? -1 : this.addrs[a] > this.addrs[b] ? 1 : 0));
    this.addrs = idx.map((i) => this.addrs[i]);
    this.names = idx.map((i) => this.names[i]);
    this.modules = idx.map((i) => this.modules[i]);
    this.sorted = true;
  }

  /** The symbol containing `addr` (largest symbol address <= addr), within `maxOffset` bytes. */
  lookup(address: string | bigint, maxOffset = 0x100000): SymbolHit | null {
    let addr: bigint;
    try {
      addr = typeof address === 'bigint' ? address : BigInt(address.startsWith('0x') ? address : `0x${address}`);
    } catch {
      return null;
    }
    this.ensureSorted();
    let lo = 0;
    let hi = this.addrs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addrs[mid] <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return null;
    const offset = Number(addr - this.addrs[best]);
    if (offset > maxOffset) return null;
    return { name: this.names[best], offset, module: this.modules[best] };
  }

  /** `sym` or `sym+0x1f8` for an address, or null. */
  describe(address: string | bigint, maxOffset?: number): string | null {
    const hit = this.lookup(address, maxOffset);
    if (!hit) return null;
    return hit.offset === 0 ? hit.name : `${hit.name}+0x${hit.offset.toString(16)}`;
  }
}

/** Load a kallsyms/System.map file (plain or gzip). */
export async function loadSymbolFile(path: string): Promise<SymbolTable> {
  const table = new SymbolTable();
  let stream: NodeJS.ReadableStream = createReadStream(path);
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(path, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d as Buffer));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  }).catch((e) => {
    throw new InputError(path, describeFsError(e));
  });
  if (head[0] === 0x1f && head[1] === 0x8b) stream = (stream as import('node:stream').Readable).pipe(createGunzip());
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let lines = 0;
  try {
    for await (const line of rl) {
      lines++;
      table.addLine(line);
    }
  } catch (e) {
    throw new InputError(path, describeFsError(e));
  }
  if (table.size === 0) throw new InputError(path, `no symbols found in ${lines} lines (expected /proc/kallsyms or System.map lines)`);
  return table;
}
