// Objects keyed by names that come from a trace (modules, call sites, functions, locks, sessions) or
// from a file a user hands over (saved reports, host summaries). A plain `{}` answers `constructor`,
// `toString` or `hasOwnProperty` from Object.prototype and swallows a `__proto__` key, so a module
// named `constructor` once counted `Object + 1`. Such tables are Maps, or objects made here: with a
// null prototype, every key is the trace's own.

/** An empty table, or a null-prototype copy of `init` (own keys only). */
export function nameTable<V>(init?: Readonly<Record<string, V>>): Record<string, V> {
  const t = Object.create(null) as Record<string, V>;
  if (init) for (const k of Object.keys(init)) t[k] = init[k];
  return t;
}

/** A constant lookup table (function names, lock names...) that trace names are looked up in. */
export function lookupTable<T extends object>(entries: T): T {
  return Object.freeze(nameTable(entries as Record<string, unknown>)) as T;
}

/** `rec[key] += n`, safe for any key. */
export function addCount(rec: Record<string, number>, key: string, n = 1): void {
  rec[key] = (Object.hasOwn(rec, key) ? rec[key] : 0) + n;
}

/** `rec[key]` when it is the record's own entry (a parsed JSON record has Object.prototype). */
export function own<V>(rec: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}
