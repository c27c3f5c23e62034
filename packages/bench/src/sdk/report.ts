// The BENCHMARKS.md section of the SDK phase: the fabric's SDK beside bentocache.
import type { MachineInfo } from '../machine.js';
import { f0, row } from '../markdown.js';
import { failed, type PhaseOutcome } from '../phase.js';
import type { SdkResult } from '../phases/sdk.js';
import { fmtMs, summarize } from '../stats.js';
import { distribution, formatHistogram, ratio } from './distribution.js';
import type { ContenderName } from './read-caches.js';

export const SDK_SECTION = 'sdk';
const THEIRS: ContenderName[] = ['bentocache-l2', 'bentocache-l1'];
/** Each of ours against its like: L2 only against L2 only, L1 + bus against L1 + bus. */
const LIKE: Record<string, ContenderName> = { 'bentocache-l2': 'fabric', 'bentocache-l1': 'fabric-l1' };
const OURS: ContenderName[] = ['fabric', 'fabric-l1'];

const us = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : v.toFixed(0));
const staleMs = (xs: readonly (number | null)[] | undefined, capMs: number): string =>
  !xs || xs.length === 0
    ? 'n/a'
    : xs.map((x) => (x === null ? `> ${(capMs / 1000).toFixed(0)} s (until TTL)` : `${fmtMs(x)} ms`)).join(', ');

export function renderSdk(
  outcome: PhaseOutcome<SdkResult> | undefined,
  command: string,
  machine?: MachineInfo,
): string[] {
  const out = ['## The read side beside bentocache', ''];
  if (!outcome) return [...out, 'Not measured in this run.', ''];
  if (failed(outcome)) return [...out, `Failed: ${outcome.error}`, ''];
  const R = outcome;

  out.push(
    `\`${command}\`. The fabric's \`FabricCache\` (fill leases, keys \`user:<id>\` that the fabric's invalidator deletes) beside bentocache ${'1.6'} as its documentation sets it up: \`bentocache-l2\` = \`bentostore().useL2Layer(redis())\`, \`bentocache-l1\` = the same with \`useL1Layer(memory())\` and \`useBus(redisBus())\`. All on the home region's Redis, loaders reading the same \`users\` rows at the primary, on ${machine ? `${machine.nproc} × ${machine.cpu}, ${machine.memGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, PostgreSQL ${machine.postgres}` : 'the machine above'} (shared with the whole three-region fabric). bentocache's keys are its own (\`bentocache-l2:…\`), which the fabric never touches: bentocache lives by the application's \`delete\` after each COMMIT, the best a bentocache user can do; the fabric's SDK gets no such call.`,
    '',
  );
  out.push(
    row(['measure', ...OURS, ...THEIRS, ...THEIRS.map((t) => `${LIKE[t]} / ${t}`)]),
    row(Array<string>(1 + OURS.length + THEIRS.length * 2).fill('---')),
  );
  const line = (
    label: string,
    pick: (c: ContenderName) => number | null | undefined,
    fmt: (v: number | null | undefined) => string,
  ) =>
    out.push(
      row([
        label,
        ...[...OURS, ...THEIRS].map((c) => fmt(pick(c))),
        ...THEIRS.map((t) => ratio(pick(LIKE[t]!), pick(t))),
      ]),
    );
  line('warm hit p50 µs (one caller)', (c) => R.hits[c]?.p50Us, us);
  line('warm hit p99 µs (one caller)', (c) => R.hits[c]?.p99Us, us);
  line(`warm hits/s, ${R.hits.fabric?.concurrency ?? 'n/a'} callers`, (c) => R.hits[c]?.opsPerSecond, f0);
  line('warm hits per CPU-second of the client (per core)', (c) => R.hits[c]?.opsPerCpuSecond, f0);
  const st = (c: ContenderName) => distribution(R.stampede[c]?.loads ?? []);
  line('stampede: database loads per trial, median', (c) => st(c).median, f0);
  line('stampede: database loads per trial, max', (c) => st(c).max, f0);
  line(`forced race: stale keys of ${R.forced.keys}`, (c) => R.forced.perContender[c]?.stale, f0);
  line(
    `driven race: stale keys of ${R.driven?.hotKeys ?? 'n/a'} after convergence`,
    (c) => R.driven?.perContender[c]?.stale,
    f0,
  );
  line('driven race: stale reads', (c) => R.driven?.perContender[c]?.staleReads, f0);
  const l1 = (c: ContenderName) => summarize((R.l1[c]?.staleMs ?? []).filter((x): x is number => x !== null));
  line('another instance serves the old value, p50 ms', (c) => l1(c).p50, fmtMs);
  line('… max ms', (c) => l1(c).max, fmtMs);
  out.push('');
  const S = R.stampede.fabric;
  out.push(
    `**Stampede**: ${S?.processes ?? 'n/a'} processes (each its own cache instance) × ${S?.concurrency ?? 'n/a'} concurrent gets of one cold key, a load taking ${S?.loadMs ?? 'n/a'} ms, ${S?.trials ?? 'n/a'} trials; loads counted by the loader's own Redis INCR. Loads per trial (value×trials): ` +
      [...OURS, ...THEIRS]
        .map(
          (c) =>
            `${c} ${formatHistogram(st(c as ContenderName))}${R.stampede[c as ContenderName]?.errors ? ` (${R.stampede[c as ContenderName]?.errors} errors: ${R.stampede[c as ContenderName]?.firstError})` : ''}`,
        )
        .join('; ') +
      '.',
    '',
  );
  out.push(
    `**Forced race**: for each of ${R.forced.keys} keys a reader misses and loads the row, and is held inside its loader until the row was updated, bentocache's deletes returned and the fabric's invalidator had bumped the row's version key; then every fill goes ahead and each key is read back. fabric and fabric-l1 share the key rules' keys, so fabric-l1 has a round of its own on the same rows (in one round it would wait behind fabric's leases instead of loading).`,
    '',
  );
  const D = R.driven;
  if (D)
    out.push(
      `**Driven race**: ${D.rate} updates/s (achieved ${f0(D.achievedRate)}/s) for ${D.seconds} s on random rows of a hot set of ${D.hotKeys}, ${D.readers} readers per contender, a load taking 20 ms; after the writer stopped and the fabric drained, each key is read back. A read counts as stale when a newer value had committed more than ${D.graceMs} ms before it started (so neither a read racing a commit nor the invalidation's own latency counts). Reads: ` +
        [...OURS, ...THEIRS].map((c) => `${c} ${D.perContender[c as ContenderName]?.reads ?? 'n/a'}`).join(', ') +
        '.',
      '',
    );
  const cap = R.l1['bentocache-l1']?.capMs ?? 0;
  out.push(
    `**Across instances**: instances A and B both hold a row; the row changes, A does what its cache asks after a commit (bentocache: \`delete\`, which its bus tells the other L1s about; fabric: nothing) and B is polled until it serves the new value (${R.l1.fabric?.trials ?? 'n/a'} trials, TTL ${R.l1['bentocache-l1']?.ttlSeconds ?? 'n/a'} s). With B's bus connection cut for ${R.l1['bentocache-l1']?.cutMs ?? 'n/a'} ms around the update (a TCP proxy drops it and refuses it meanwhile; Redis pub/sub delivers at most once), B served the old value for: fabric-l1 ${staleMs(R.l1['fabric-l1']?.staleMsCut, cap)}; bentocache-l1 ${staleMs(R.l1['bentocache-l1']?.staleMsCut, cap)}. The fabric's L1 is cleared and off whenever its bus subscription is lost, so B reads Redis, where the invalidator deleted the key; the fabric without an L1 has no bus to lose.`,
    '',
  );
  if (R.errors.length > 0) out.push('Measurements that failed in this run:', '', ...R.errors.map((e) => `- ${e}`), '');
  return out;
}
