// The Ink application: one component that draws buildScreen() and feeds keys to keys.ts. All state
// that matters lives in the model (data) and NavState (where the user is); this file only wires
// them to the terminal: size and resize, redraw on model changes, NO_COLOR.
import { Box, type Key, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useReducer, useRef, useState } from 'react';
import { applyAction, initialNav, keyOf, keyToAction, type NavState } from './keys.js';
import { buildScreen } from './layout.js';
import type { TuiModel } from './model.js';
import type { Line } from './text.js';

export interface AppProps {
  model: TuiModel;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  width?: number;
  height?: number;
  noColor?: boolean;
  initial?: NavState;
  onQuit?: () => void;
}

function LineView({ line, noColor }: { line: Line; noColor: boolean }) {
  if (line.length === 0 || (line.length === 1 && line[0].text === '')) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {line.map((s, i) => (
        <Text key={i} color={noColor ? undefined : s.color} bold={s.bold} dimColor={s.dim} inverse={s.inverse}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

function useTerminalSize(fixed: { width?: number; height?: number }): { width: number; height: number } {
  const { stdout } = useStdout();
  // Ink redraws the whole frame with a clear when the output is as tall as the terminal; one row
  // less keeps redraws incremental (no flicker).
  const measure = () => ({ width: Math.max(40, stdout.columns || 80), height: Math.max(10, (stdout.rows || 24) - 1) });
  const [size, setSize] = useState(measure);
  useEffect(() => {
    if (fixed.width && fixed.height) return;
    const onResize = () => setSize(measure());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return { width: fixed.width ?? size.width, height: fixed.height ?? size.height };
}


export function App({ model, width, height, noColor = false, initial, onQuit }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize({ width, height });
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const navRef = useRef<NavState>(initial ?? initialNav());
  const [nav, setNav] = useState<NavState>(navRef.current);
  useEffect(() => model.subscribe(redraw), [model]);

  const screen = buildScreen(model, nav, size.width, size.height);

  const onKey = (input: string, key: Key): boolean => {
    const action = keyToAction(input, key, navRef.current.mode);
    if (!action) return true;
    if (action.type === 'quit') {
      model.stop();
      onQuit?.();
      exit();
      return false;
    }
    // Apply against the page of the state the key acts on (keys can arrive faster than redraws).
    const info = buildScreen(model, navRef.current, size.width, size.height).info;
    navRef.current = applyAction(navRef.current, action, info);
    return true;
  };

  useInput((input, key) => {
    // Keys typed quickly (or pasted) arrive as one chunk: `:4000⏎` is five keys, not one.
    if (input.length > 1 && !key.ctrl && !key.meta && !input.includes('\x1b')) {
      for (const ch of input) if (!onKey(ch, keyOf(ch))) return;
    } else if (!onKey(input, key)) {
      return;
    }
    setNav(navRef.current);
  });

  return (
    <Box flexDirection="column" width={size.width}>
      {screen.lines.map((l, i) => (
        <LineView key={i} line={l} noColor={noColor} />
      ))}
    </Box>
  );
}

/**
 * The element cli/tui.ts hands to Ink's render. It is made here, where React is imported by name,
 * so that cli/tui.ts loads React only through this file (the bundle's dynamic `import('react')`
 * would give React's CommonJS exports as `default` only).
 */
export function appElement(props: AppProps) {
  return <App {...props} />;
}
