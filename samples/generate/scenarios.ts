// Scenarios: what the tasks do and when. `lifecycle`, `abort` and `stress` follow the lab's real
// runs (real README §3.1, §3.2, §3.4 and guest/scn_contention.sh); `preseries`, `forced-unload`,
// `unregister-error` and `freeze` cover what the real captures cannot (docs/luo-model.md §7 (a)–(c), the
// tp_printk freeze phase).
import { Lock } from './kernel.js';
import {
  type Ctl,
  closeIncoming,
  closeOutgoing,
  createSession,
  finishSession,
  freeze,
  insmod,
  kexecLoad,
  modulePut,
  newCtl,
  noise,
  openDemo,
  openLuo,
  preserve,
  retrieveFd,
  retrieveSession,
  rmmod,
} from './ops.js';
import { LOP_RELEASE, LOP_WAIT_WRITE } from './sim.js';
import { D, LuoFile, type Module, type Op, Proc, type Session, type World } from './world.js';

export const SCENARIOS = ['lifecycle', 'abort', 'preseries', 'forced-unload', 'unregister-error', 'stress', 'freeze'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_HELP: Record<ScenarioName, string> = {
  lifecycle:
    'the real lifecycle run: insmod, hold N sessions × (files demo fds + memfds), rmmod refused, kexec_file_load (--stage 1); or the new kernel: insmod, deserialize, retrieve, finish odd sessions by ioctl and even ones by close, rmmod (--stage 2)',
  abort: 'the real abort run: preserve files, one failing preserve (-EIO), one fd without handler (-ENOENT), a memfd, close the session (abort), rmmod',
  preseries: 'pre-series kernel pinning at registration: insmod takes module refs in liveupdate_register_file_handler/_flb, rmmod refused twice with no session (luo-model §7(a))',
  'forced-unload': 'files preserved (module pinned), rmmod refused, then rmmod -f: delete_module with O_TRUNC, module_free while references are outstanding (§7(b))',
  'unregister-error': 'pre-series kernel, a session exists, rmmod -f: liveupdate_unregister_flb/_file_handler return -16 (EBUSY) and the module is freed anyway (§7(b),(c))',
  stress:
    'N luo_ctl workers loop create/preserve/close (abort) like `luo_ctl stress`, optionally with an insmod/rmmod loop of another module (writer contention on luo_register_rwlock); runs until --size or --cycles',
  freeze: 'the freeze phase inside kexec -e as tp_printk console lines (liveupdate_reboot → luo_session_serialize → luo_file_freeze …); use --format console',
};

export interface ScenarioOptions {
  scenario: ScenarioName;
  stage: 1 | 2;
  sessions: number;
  files: number;
  memfds: number;
  modules: number;
  workers: number;
  /** Stress cycles per worker; null: until the size budget is spent. */
  cycles: number | null;
  moduleLoop: boolean;
  /** 0..1: how much the stress workers overlap (1 = no think time between cycles). */
  contention: number;
  /** First event time in seconds of uptime. */
  start: number;
}

/** Uptime (s) of the first event when --start is not given: close to the real runs. */
export function defaultStart(o: Pick<ScenarioOptions, 'scenario' | 'stage'>): number {
  switch (o.scenario) {
    case 'lifecycle':
      return o.stage === 2 ? 109.8 : 82.1;
    case 'abort':
      return 113.6;
    case 'stress':
      return 74.8;
    case 'freeze':
      return 120.39;
    default:
      return 80.4;
  }
}

/** A child process started by the scenario's shell; returns a lock released when it exits. */
function spawn(parent: Proc, comm: string, delay: number, body: (p: Proc) => Op<unknown>, pid?: number): Lock {
  const w = parent.w;
  const task = w.newTask(comm, pid);
  const done = new Lock('task-exit', '0x0', '0x0', 'mutex', '');
  done.writer = task;
  const child = new Proc(w, task);
  const start = parent.t + w.rng.delay(delay * w.speed);
  w.sched.spawn(
    task,
    start,
    (function* () {
      yield* body(child);
      yield child.internal(done, LOP_RELEASE, 1000);
    })(),
  );
  return done;
}

function* join(p: Proc, done: Lock): Op {
  yield p.internal(done, LOP_WAIT_WRITE, 1000);
}

function* run(p: Proc, comm: string, delay: number, body: (c: Proc) => Op<unknown>): Op {
  yield* join(p, spawn(p, comm, delay, body));
}

/** Demo file i of session k uses module i mod n; tokens as luo_ctl numbers them (0x100*k + i + 1). */
function demoModule(mods: Module[], i: number): Module {
  return mods[i % mods.length];
}

export function startScenario(w: World, o: ScenarioOptions): void {
  const shTask = w.newTask('sh');
  const sh = new Proc(w, shTask);
  const t0 = Math.round(o.start * 1e9);
  const mods: Module[] = [];
  for (let i = 0; i < o.modules; i++) mods.push(w.addModule());
  let body: Op;
  switch (o.scenario) {
    case 'lifecycle':
      body = o.stage === 2 ? lifecycleStage2(sh, o, mods) : lifecycleStage1(sh, o, mods);
      break;
    case 'abort':
      body = abortScenario(sh, o, mods);
      break;
    case 'preseries':
      body = preseries(sh, mods);
      break;
    case 'forced-unload':
    case 'unregister-error':
      body = forcedUnload(sh, o, mods);
      break;
    case 'stress':
      body = stress(sh, o, mods);
      break;
    case 'freeze':
      body = freezePhase(sh, o, mods);
      break;
  }
  w.sched.spawn(shTask, t0, body);
}

function* insmodAll(sh: Proc, mods: Module[], params = ''): Op {
  for (const m of mods) yield* run(sh, 'insmod', 1000, (p) => insmodProc(p, m, params));
}

function* insmodProc(p: Proc, m: Module, params: string): Op {
  noise(p, 1);
  p.sleep(D.gap * 60, 0.3);
  yield* insmod(p, m, params);
}

function* lifecycleStage1(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  yield* insmodAll(sh, mods);
  sh.sleep(1_300_000_000, 0.2);
  yield* run(sh, 'luo_ctl', D.gap, (p) => holdSessions(p, o, mods, 'lifecycle'));
  sh.sleep(2_500_000_000, 0.2);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
  sh.sleep(2_000_000_000, 0.2);
  yield* run(sh, 'kexec', D.gap, function* (p) {
    kexecLoad(p);
  });
}

/** `luo_ctl hold name:files:memfds …`: create sessions, preserve fds, keep the session fds open. */
function* holdSessions(p: Proc, o: ScenarioOptions, mods: Module[], prefix: string): Op<Session[]> {
  const w = p.w;
  const ctl = newCtl(p);
  noise(p, 3);
  yield* openLuo(p, []);
  const sessions: Session[] = [];
  for (let k = 1; k <= o.sessions; k++) {
    yield p.sync();
    const s = w.newSession(`${prefix}-s${k}`, false);
    s.fd = 3 + k;
    sessions.push(s);
    yield* createSession(p, ctl, s);
    const fd = s.fd + 1;
    for (let i = 0; i < o.files; i++) {
      const mod = demoModule(mods, i);
      const f = new LuoFile(0x100 * k + i + 1, mod.handler, false);
      openDemo(p, ctl, mod, fd, true);
      f.vfsRef = true;
      yield* preserve(p, ctl, s, f, fd);
      p.sleep(D.gap, 0.5);
    }
    for (let j = 0; j < o.memfds; j++) {
      yield* preserve(p, ctl, s, new LuoFile(0x100 * k + 0x80 + j, w.memfd, false), fd);
      p.sleep(D.gap, 0.5);
    }
  }
  return sessions;
}

/** The sessions stage 1 serialized, as the new kernel finds them (same names and tokens). */
function incomingSessions(w: World, o: ScenarioOptions, mods: Module[]): Session[] {
  const out: Session[] = [];
  for (let k = 1; k <= o.sessions; k++) {
    const s = w.newSession(`lifecycle-s${k}`, true);
    for (let i = 0; i < o.files; i++) s.files.push(new LuoFile(0x100 * k + i + 1, demoModule(mods, i).handler, false));
    for (let j = 0; j < o.memfds; j++) s.files.push(new LuoFile(0x100 * k + 0x80 + j, w.memfd, false));
    out.push(s);
  }
  return out;
}

function* lifecycleStage2(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  yield* insmodAll(sh, mods);
  sh.sleep(900_000_000, 0.2);
  const incoming = incomingSessions(sh.w, o, mods);
  yield* run(sh, 'luo_ctl', D.gap, (p) => retrieveAll(p, incoming));
  sh.sleep(2_000_000_000, 0.2);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
}

/** `luo_ctl retrieve s1:…:finish s2:…:close …`: odd sessions finish by ioctl, even ones by close. */
function* retrieveAll(p: Proc, incoming: Session[]): Op {
  const ctl: Ctl = newCtl(p);
  noise(p, 2);
  yield* openLuo(p, incoming);
  for (let k = 0; k < incoming.length; k++) {
    const s = incoming[k];
    s.fd = 4;
    yield* retrieveSession(p, ctl, s);
    let fd = 5;
    for (const f of s.files.slice()) yield* retrieveFd(p, ctl, s, f, fd++);
    if (k % 2 === 0) yield* finishSession(p, ctl, s);
    yield* closeIncoming(p, s);
  }
}

function* abortScenario(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  const failToken = 0x1ee;
  yield* insmodAll(sh, mods, `fail_token=0x${failToken.toString(16)} `);
  sh.sleep(1_100_000_000, 0.2);
  yield* run(sh, 'luo_ctl', D.gap, (p) => abortRun(p, o, mods, failToken));
  sh.sleep(2_000_000_000, 0.2);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
}

/** `luo_ctl abort abort-s1 N 0x1ee`. */
function* abortRun(p: Proc, o: ScenarioOptions, mods: Module[], failToken: number): Op {
  const w = p.w;
  const ctl = newCtl(p);
  noise(p, 3);
  yield* openLuo(p, []);
  yield p.sync();
  const s = w.newSession('abort-s1', false);
  s.fd = 4;
  yield* createSession(p, ctl, s);
  const fd = 3;
  for (let i = 0; i < o.files; i++) {
    const mod = demoModule(mods, i);
    const f = new LuoFile(0x101 + i, mod.handler, false);
    openDemo(p, ctl, mod, fd, true);
    f.vfsRef = true;
    yield* preserve(p, ctl, s, f, fd);
  }
  // The deliberately failing preserve; the process then closes that fd (its VFS ref goes).
  const bad = new LuoFile(failToken, mods[0].handler, true);
  openDemo(p, ctl, mods[0], fd, true);
  yield* preserve(p, ctl, s, bad, fd);
  modulePut(p, mods[0], '__fput');
  // /dev/null: no handler can preserve it.
  yield* preserve(p, ctl, s, new LuoFile(0x1ff, null, false), fd);
  for (let j = 0; j < o.memfds; j++) yield* preserve(p, ctl, s, new LuoFile(0x180 + j, w.memfd, false), fd);
  p.sleep(D.gap, 0.5);
  yield* closeOutgoing(p, s);
}

function* preseries(sh: Proc, mods: Module[]): Op {
  yield* insmodAll(sh, mods);
  sh.sleep(1_500_000_000, 0.2);
  for (let attempt = 0; attempt < 2; attempt++) {
    for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
    sh.sleep(1_000_000_000, 0.2);
  }
}

function* forcedUnload(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  yield* insmodAll(sh, mods);
  sh.sleep(1_200_000_000, 0.2);
  // The holder keeps its sessions open for the rest of the run.
  yield* run(sh, 'luo_ctl', D.gap, (p) => holdSessions(p, o, mods, 'hold'));
  sh.sleep(1_500_000_000, 0.2);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
  sh.sleep(1_000_000_000, 0.2);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, true));
}

function* freezePhase(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  const w = sh.w;
  const sessions = incomingSessions(w, o, mods);
  yield* run(sh, 'kexec', 1000, function* (p) {
    userText(p, `=== stage 1 done; tracepoint_printk=1; kexec -e (uptime ${o.start.toFixed(2)})`);
    userText(p, 'ifdown: socket: Function not implemented');
    freeze(p, sessions);
  });
}

/** Userspace output on the serial console (no kernel timestamp). */
function userText(p: Proc, text: string): void {
  p.printk(text, D.long * 10).n = 1;
}

/** Shared between the stress shell and the module loop: set when the workers are done. */
interface StressState {
  workersDone: boolean;
}

function* stress(sh: Proc, o: ScenarioOptions, mods: Module[]): Op {
  const w = sh.w;
  yield* insmodAll(sh, mods);
  sh.sleep(1_000_000_000, 0.2);
  const st: StressState = { workersDone: false };
  const parentPid = w.pid();
  // `luo_ctl stress NPROC …`: the parent opens /dev/liveupdate once and forks the workers.
  const parent = spawn(sh, 'luo_ctl', D.gap, (p) => openLuo(p, []), parentPid);
  yield* join(sh, parent);
  const workers: Lock[] = [];
  for (let k = 0; k < o.workers; k++) {
    workers.push(spawn(sh, 'luo_ctl', D.step, (p) => stressWorker(p, o, mods, k), w.pid(1)));
  }
  let loop: Lock | null = null;
  if (o.moduleLoop) {
    const extra = w.addModule();
    loop = spawn(sh, 'sh', D.gap, (p) => moduleLoop(p, extra, st));
  }
  for (const d of workers) yield* join(sh, d);
  st.workersDone = true;
  if (loop) yield* join(sh, loop);
  sh.sleep(500_000_000, 0.3);
  for (const m of mods) yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
}

function* stressWorker(p: Proc, o: ScenarioOptions, mods: Module[], k: number): Op {
  const w = p.w;
  const ctl = newCtl(p);
  const think = D.gap * 2 * (1 - o.contention);
  for (let it = 0; ; it++) {
    yield p.sync();
    if (o.cycles !== null ? it >= o.cycles : w.stopRequested()) break;
    const s = w.newSession(`stress-${p.task.pid}-${it}`, false);
    s.fd = 4;
    yield* createSession(p, ctl, s);
    for (let i = 0; i < o.files; i++) {
      if (o.cycles === null && w.stopRequested()) break;
      const mod = demoModule(mods, i + k);
      const f = new LuoFile(1 + i, mod.handler, false);
      openDemo(p, ctl, mod, 5, false);
      f.vfsRef = true;
      yield* preserve(p, ctl, s, f, 5);
    }
    for (let j = 0; j < o.memfds; j++) yield* preserve(p, ctl, s, new LuoFile(0x80 + j, w.memfd, false), 5);
    yield* closeOutgoing(p, s);
    p.maybeMigrate(0.1);
    if (think > 0) p.sleep(think, 0.8);
  }
}

/** `while …; do insmod luo_demo2.ko; rmmod luo_demo2; done` (scn_contention.sh). */
function* moduleLoop(sh: Proc, m: Module, st: StressState): Op {
  while (!st.workersDone && !sh.w.stopRequested()) {
    yield* run(sh, 'insmod', D.gap, (p) => insmod(p, m));
    yield* run(sh, 'rmmod', D.gap, (p) => rmmod(p, m, false));
    sh.sleep(D.gap * 4, 0.5);
  }
}
