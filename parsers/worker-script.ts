// Where a worker thread's script is. Worker threads run JavaScript files, so a worker is the built
// file beside the module that starts it; when that module itself runs from its TypeScript source
// (the tests), the worker is the same file in the build output (dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `beside`: the script next to the calling module; `built`: the same script in dist/; `what`: for the error. */
export function workerScript(beside: URL, built: URL, what: string): URL {
  if (existsSync(fileURLToPath(beside))) return beside;
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`${what} is not built (${fileURLToPath(built)}): run npm run build`);
}
