// SYNTHETIC: a hand-written `locks` + `lockDetails` section in the shape of issue #4's JSON
// contract (locks[]: name, address, mode, acquisitions, contended, wait/hold summaries in ns; the
// richer fields of analyses/locks/locks.ts: type, waitHistogram, slowestWaits with owners).
// The numbers are made up; the wait lines point at real contention_begin lines of the lifecycle
// stage 1 capture so that drilling down lands on real text. Not a trace: a report fixture.
const summary = (count: number, total: number, min: number, max: number, p50: number, p90: number, p99: number) => ({
  count,
  total,
  min,
  max,
  avg: count ? total / count : null,
  p50,
  p90,
  p99,
  p999: max,
  quantiles: 'exact',
});

export const SYNTHETIC_LOCKS = {
  locks: [
    {
      name: 'luo_register_rwlock',
      address: '0xffffffff81ed2360',
      mode: 'W',
      type: 'rwsem:W',
      acquisitions: 22,
      contended: 3,
      wait: summary(3, 9_000_000, 1_000_000, 6_000_000, 2_000_000, 6_000_000, 6_000_000),
      hold: summary(22, 44_000_000, 500_000, 9_000_000, 1_500_000, 4_000_000, 9_000_000),
      waitHistogram: [
        { low: 524_288, high: 1_048_576, count: 0 },
        { low: 1_048_576, high: 2_097_152, count: 2 },
        { low: 4_194_304, high: 8_388_608, count: 1 },
      ].filter((b) => b.count > 0),
    },
    {
      name: '&session->mutex',
      address: null,
      mode: 'mutex',
      type: 'mutex',
      acquisitions: 10,
      contended: 5,
      wait: summary(5, 2_500_000, 100_000, 1_200_000, 300_000, 1_000_000, 1_200_000),
      hold: summary(10, 80_000_000, 1_000_000, 30_000_000, 5_000_000, 20_000_000, 30_000_000),
    },
    {
      name: 'luo_session_serialize_rwsem',
      address: '0xffffffff81ed2740',
      mode: 'R',
      type: 'rwsem:R',
      acquisitions: 10,
      contended: 0,
      wait: summary(0, 0, 0, 0, 0, 0, 0),
      hold: summary(10, 1_000_000, 50_000, 200_000, 90_000, 150_000, 200_000),
    },
  ],
  lockDetails: {
    slowestWaits: [
      {
        lock: 'luo_register_rwlock',
        address: '0xffffffff81ed2360',
        type: 'rwsem:W',
        waiter: { pid: 315, comm: 'insmod', session: null, func: 'liveupdate_register_file_handler', phase: null },
        duration: 6_000_000,
        begin: 83_370_027_000,
        end: 83_376_027_000,
        owners: [{ pid: 317, comm: 'luo_ctl', session: 'lifecycle-s1', func: 'luo_preserve_file', phase: 'preserve', mode: 'R', heldFor: 2_000_000 }],
        explanation: 'insmod-315 waited 6.0 ms for luo_register_rwlock (W) held for reading by luo_ctl-317 in luo_preserve_file (session lifecycle-s1)',
        file: 0,
        line: 16,
      },
      {
        lock: 'luo_register_rwlock',
        address: '0xffffffff81ed2360',
        type: 'rwsem:W',
        waiter: { pid: 315, comm: 'insmod', session: null, func: null, phase: null },
        duration: 2_000_000,
        begin: 83_386_095_000,
        end: 83_388_095_000,
        owners: [],
        explanation: 'insmod-315 waited 2.0 ms for luo_register_rwlock; the owner was not seen',
        file: 0,
        line: 18,
      },
      {
        lock: '&session->mutex',
        address: null,
        type: 'mutex',
        waiter: { pid: 317, comm: 'luo_ctl', session: 'lifecycle-s2', func: 'luo_preserve_file', phase: 'preserve' },
        duration: 1_200_000,
        begin: 86_999_000_000,
        end: 87_000_200_000,
        owners: [{ pid: 317, comm: 'luo_ctl', session: 'lifecycle-s1', func: null, phase: null, mode: 'mutex', heldFor: null }],
        explanation: 'luo_ctl-317 waited 1.2 ms for &session->mutex',
        file: 0,
        line: 20,
      },
    ],
  },
};
