// `--csv DIR` / `export --format csv`: write the report's CSV tables (reports/csv.ts) into a directory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalyzeReport } from '../../analyses/report.js';
import { InputError } from '../../parsers/index.js';
import { reportTables, tableToCsv } from '../../reports/csv.js';
import { writeOutputFile } from '../output.js';

/** Write every table of the report into DIR (created if needed); returns the paths written. */
export async function writeCsvTables(report: AnalyzeReport, dir: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new InputError(dir, `cannot create the CSV directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const written: string[] = [];
  for (const t of reportTables(report)) {
    const path = join(dir, `${t.name}.csv`);
    writeOutputFile(path, (out) => out.write(tableToCsv(t)));
    written.push(path);
  }
  return written;
}
