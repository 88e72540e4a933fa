// Issue 15, item 13: the TUI, killed by a signal, gives the terminal back (primary screen, cursor
// shown) and exits like the rest of the CLI (128 + the signal). The real binary in tmux, as e2e.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { CLI } from '../cli/run.js';
import { CAPTURES } from './helpers.js';

const SOCKET = `luotrace-signals-${process.pid}`;
const WAIT_MS = 40_000;
// As in e2e.test.ts: Ink renders nothing until exit when it thinks it runs in CI.
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION' && !k.startsWith('CI_') && k !== 'NO_COLOR') env[k] = v;
env.TERM = 'xterm-256color';

const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { env, encoding: 'utf8' });

async function waitFor(what: string, fn: () => boolean): Promise<void> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > WAIT_MS) throw new Error(`timed out waiting for ${what}; screen:\n${tmux('capture-pane', '-p')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

describe('the TUI and signals from outside', () => {
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    it(`${sig}: leaves the alternate screen, shows the cursor, exits ${code}`, async () => {
      const t = sig.toLowerCase();
      tmux('new-session', '-d', '-s', t, '-x', '80', '-y', '24', '-c', ROOT, `node '${CLI}' tui '${CAPTURES.abort[0]}'; echo "luotrace exited: $?"; sleep 600`);
      const screen = () => tmux('capture-pane', '-p', '-t', t);
      await waitFor('the overview', () => screen().includes('TIMELINE'));
      expect(tmux('display', '-p', '-t', t, '#{alternate_on}').trim()).toBe('1');
      const shell = tmux('display', '-p', '-t', t, '#{pane_pid}').trim();
      const node = execFileSync('ps', ['-o', 'pid=', '--ppid', shell], { encoding: 'utf8' }).trim();
      process.kill(Number(node), sig);
      await waitFor('the exit', () => screen().includes('luotrace exited:'));
      expect(screen()).toContain(`luotrace exited: ${code}`);
      expect(tmux('display', '-p', '-t', t, '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
    });
  }
});
