// The whole screen as lines: tab bar, the page (fixed top, the scrolled list, the bottom panel),
// the status line. Pure: the same state and size give the same text, which is what the tests and
// the committed screen dumps rely on.
import { findPin } from './relations.js';
import { type Frame, type NavState, type PageInfo, placeCursor, topFrame } from './keys.js';
import type { TuiModel } from './model.js';
import { loadingLines, statusLine, tabBar } from './loading.js';
import { type PageCtx } from './pages/common.js';
import { eventsPage } from './pages/events.js';
import { lockPage, locksPage } from './pages/locks.js';
import { modulePage, modulesPage, pinPage } from './pages/modules.js';
import { overviewPage, verdictPage } from './pages/overview.js';
import { qualityPage } from './pages/quality.js';
import { sessionPage, sessionsPage } from './pages/sessions.js';
import { fit, fmtBytes, fmtCount, type Line, lineText, padEnd, seg, shortFile, wrap } from './text.js';
import { isVirtual, type Page, type Row, SCREEN_TITLES, type View } from './views.js';

export function buildPage(ctx: PageCtx, view: View): Page {
  switch (view.kind) {
    case 'overview':
      return overviewPage(ctx);
    case 'sessions':
      return sessionsPage(ctx);
    case 'modules':
      return modulesPage(ctx);
    case 'locks':
      return locksPage(ctx, view.all === true);
    case 'quality':
      return qualityPage(ctx);
    case 'events':
      return eventsPage(ctx, view);
    case 'verdict':
      return verdictPage(ctx, view.id);
    case 'session':
      return sessionPage(ctx, view.id);
    case 'module':
      return modulePage(ctx, view.key);
    case 'pin':
      return pinPage(ctx, view.key);
    case 'lock':
      return lockPage(ctx, view.key);
  }
}

interface ListSource {
  count: number;
  get(i: number): Row;
}

function listOf(page: Page, filter: string): ListSource {
  if (isVirtual(page.rows)) return page.rows;
  let rows = page.rows;
  if (filter && !page.ownFilter) {
    const f = filter.toLowerCase();
    rows = rows.filter((r) => (r.search ?? lineText(r.line)).toLowerCase().includes(f));
  }
  return { count: rows.length, get: (i) => rows[i] };
}

export interface Composed {
  lines: Line[];
  info: Omit<PageInfo, 'files'>;
}

/** Lay a page out in `height` rows of `width` columns. */
export function composePage(page: Page, frame: Frame, width: number, height: number): Composed {
  const list = listOf(page, frame.filter);
  const top = page.top.slice(0, Math.max(0, height - 1));
  const available = Math.max(1, height - top.length);
  const wants = page.bottom ? (page.bottomWants ?? 0) : 0;
  let listHeight: number;
  if (list.count === 0) listHeight = 1;
  else if (page.listMax !== undefined) listHeight = Math.max(1, Math.min(list.count, page.listMax, available - 1));
  else listHeight = Math.max(Math.min(list.count, 3, available), Math.min(list.count, available - wants));
  listHeight = Math.max(1, Math.min(listHeight, available));
  const wanted = frame.cursor < 0 ? (page.initialCursor ?? 0) : frame.cursor;
  const { cursor, scroll } = placeCursor(wanted, frame.scroll, list.count, listHeight);
  const lines: Line[] = [...top];
  let selected: Row | undefined;
  if (list.count === 0) {
    lines.push([seg(`  ${page.empty ?? 'nothing to show'}`, { color: 'gray' })]);
  } else {
    for (let i = scroll; i < Math.min(list.count, scroll + listHeight); i++) {
      const row = list.get(i);
      const on = i === cursor;
      if (on) selected = row;
      lines.push(on ? [seg('▸ ', { bold: true }), ...row.line.map((s) => ({ ...s, inverse: true }))] : [seg('  '), ...row.line]);
    }
  }
  const room = height - lines.length;
  if (page.bottom && room > 0) lines.push(...page.bottom(selected, room).slice(0, room));
  while (lines.length < height) lines.push([seg('')]);
  return {
    lines: lines.slice(0, height).map((l) => fit(l, width)),
    info: {
      count: list.count,
      cursor,
      listHeight,
      sorts: page.sorts?.length ?? 0,
      openAt: (i) => (i >= 0 && i < list.count ? list.get(i).open : null),
      firstLine: page.firstLine ?? null,
      filterOnSubmit: Boolean(page.filterOnSubmit),
    },
  };
}

export const HELP: Array<[string, string]> = [
  ['Tab / Shift+Tab, 1-6', 'switch screen: Overview, Sessions, Modules, Locks, Events, Data quality'],
  ['↑ ↓  or  k j', 'move; PgUp/PgDn, Space, Ctrl+U/D page; g/Home, G/End first/last'],
  ['Enter', 'drill down: verdict → session → module → pin window → the raw lines'],
  ['Esc / Backspace', 'back one level (first clears a filter)'],
  ['/', 'filter the list (Events: search the file)'],
  ['s', 'cycle the sort order of the list'],
  [':', 'go to a line number (Events screen)'],
  ['[  ]', 'Events: previous / next input file'],
  ['← →', 'Events: scroll long lines sideways'],
  ['?', 'this help'],
  ['q', 'quit (Ctrl+C too)'],
  ['', ''],
  ['timeline', 'c create p preserve z freeze u unpreserve d deserialize s retrieve-session r retrieve f finish K kexec; red = error'],
  ['pin windows', '█ held, ▶ still held at the end of the trace; ◆ in Events = a line the report cites'],
];

function helpLines(width: number, height: number): Line[] {
  const out: Line[] = [[seg('KEYS', { bold: true }), seg('  any key closes this help', { color: 'gray' })]];
  for (const [k, v] of HELP) {
    if (!k) {
      out.push([seg('')]);
      continue;
    }
    wrap(v, Math.max(10, width - 22)).forEach((t, i) => out.push([seg(padEnd(i === 0 ? k : '', 22), { bold: true }), seg(t)]));
  }
  while (out.length < height) out.push([seg('')]);
  return out.slice(0, height).map((l) => fit(l, width));
}

function messageLines(text: Line[], width: number, height: number): Line[] {
  const out = [...text];
  while (out.length < height) out.push([seg('')]);
  return out.slice(0, height).map((l) => fit(l, width));
}

export interface ScreenOut {
  lines: Line[];
  info: PageInfo;
}

/** Everything on screen for this state: `height` rows in total. */
export function buildScreen(model: TuiModel, nav: NavState, width: number, height: number): ScreenOut {
  const contentHeight = Math.max(1, height - 2);
  const files = model.files;
  const none: PageInfo = { count: 0, cursor: 0, listHeight: 1, sorts: 0, openAt: () => null, files, firstLine: null, filterOnSubmit: false };
  const frame = topFrame(nav);
  let body: Line[];
  let info: PageInfo = none;
  const titles: string[] = [];
  if (nav.mode === 'help') {
    body = helpLines(width, contentHeight);
    titles.push('Help');
  } else if (model.phase === 'error') {
    body = messageLines([[seg(`luotrace: ${model.error}`, { color: 'red', bold: true })], [seg('')], [seg('press q to quit', { color: 'gray' })]], width, contentHeight);
    titles.push('Error');
  } else if (!model.report && model.phase === 'loading' && frame.view.kind === 'events') {
    // The raw lines need no report: the Events screen works while the inputs load.
    const page = eventsPage({ model, lines: model.lines, width, height: contentHeight, frame }, frame.view);
    titles.push(page.title);
    const composed = composePage(page, frame, width, contentHeight);
    body = composed.lines;
    info = { ...composed.info, files };
  } else if (!model.report) {
    if (model.phase === 'loading') body = loadingLines(model, width, contentHeight);
    else {
      const l = model.live;
      body = messageLines(
        [[seg(`Following ${files[0]}`, { bold: true })], [seg(`waiting for events… ${fmtCount(l?.lines ?? 0)} lines, ${fmtBytes(l?.bytes ?? 0)} so far`, { color: 'gray' })]],
        width,
        contentHeight,
      );
    }
    titles.push(model.phase === 'loading' ? 'Loading' : 'Waiting');
  } else {
    const ctx: PageCtx = { report: model.report, model, lines: model.lines, width, height: contentHeight, frame };
    for (const f of nav.stack.slice(0, -1)) titles.push(buildTitle(ctx, f));
    const page = buildPage(ctx, frame.view);
    titles.push(page.title);
    const composed = composePage(page, frame, width, contentHeight);
    body = composed.lines;
    info = { ...composed.info, files };
  }
  return { lines: [tabBar(nav, model, width), ...body, statusLine(nav, titles, model.report || info !== none ? info : null, width)], info };
}

function buildTitle(ctx: PageCtx, f: Frame): string {
  switch (f.view.kind) {
    case 'verdict':
      return f.view.id;
    case 'session':
      return `session #${f.view.id}`;
    case 'module':
      return `module ${f.view.key}`;
    case 'pin': {
      const p = findPin(ctx.report, f.view.key)?.window;
      return p ? `pin ${p.module}@b${p.boot}:${p.getLine}` : `pin ${shortFile(f.view.key)}`;
    }
    case 'lock':
      return `lock ${f.view.key.split('|')[0] || f.view.key}`;
    case 'locks':
      return f.view.all ? 'all locks' : SCREEN_TITLES.locks;
    case 'events':
      return `${shortFile(f.view.file ?? ctx.model.files[0])}${f.view.mark !== undefined ? `:${f.view.mark}` : ''}`;
    default:
      return SCREEN_TITLES[f.view.kind];
  }
}
