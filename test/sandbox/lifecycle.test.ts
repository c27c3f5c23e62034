import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree, listPorts, planPorts, type SandboxEndpoints } from '@fabric/sandbox';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFabricUp } from '../fabric-up.js';
import { eventually, withDb } from '../support.js';

/**
 * Drives the real `fabric up` CLI the way an operator does: start, refuse a second
 * start, stop on a signal, restart on existing state, survive kill -9 of the CLI.
 * Uses its own regions, ports and state so it runs beside the shared test sandbox.
 */
const CLI = path.resolve('packages/cli/dist/bin.js');
const STATE_DIR = path.resolve('.fabric/test-lifecycle');
const PORT_BASE = 27300;
const REGIONS = ['life-home', 'life-edge'];
const ARGS = [
  'up',
  '--json',
  '--regions',
  REGIONS.join(','),
  '--port-base',
  String(PORT_BASE),
  '--state-dir',
  STATE_DIR,
];

interface Running {
  child: ChildProcess;
  endpoints: SandboxEndpoints;
  readyMs: number;
}

const started: ChildProcess[] = [];

/** `fabric up` itself, or `npm start` as the README runs it (npm -> sh -> node). */
async function startCli(via: 'node' | 'npm' = 'node'): Promise<Running> {
  const ready = startFabricUp(ARGS.slice(2), { via });
  const { child, endpoints, readyMs } = await ready;
  started.push(child);
  return { child, endpoints, readyMs };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Processes whose command line points into this test's state directory or ports. */
function leftovers(): string[] {
  // Postgres carries its port in its flags, workers theirs in connection URLs (readers the
  // database's, invalidators Redis's).
  const regionPorts = Object.values(planPorts(REGIONS, PORT_BASE).regions);
  const markers = [STATE_DIR, ...regionPorts.flatMap((r) => [`port=${r.postgres}`, `:${r.postgres}/`, `:${r.redis} `])];
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (Number(pid) !== process.pid && markers.some((m) => cmd.includes(m))) found.push(`${pid}: ${cmd.slice(0, 120)}`);
  }
  return found;
}

async function boundPorts(): Promise<number[]> {
  const taken: number[] = [];
  for (const { port } of listPorts(planPorts(REGIONS, PORT_BASE)))
    if (!(await isPortFree(port, '127.0.0.1'))) taken.push(port);
  return taken;
}

async function expectNothingLeft(): Promise<void> {
  // The kernel delivers parent-death signals asynchronously; give shutdowns a moment.
  await eventually(
    'sandbox processes to exit',
    async () => (leftovers().length === 0 ? true : undefined),
    30_000,
  ).catch(() => undefined);
  expect(leftovers()).toEqual([]);
  expect(await boundPorts()).toEqual([]);
}

describe('fabric up lifecycle', () => {
  rmSync(STATE_DIR, { recursive: true, force: true });
  // A failed assertion must not leave a sandbox behind for the next test to trip over.
  afterEach(async () => {
    for (const child of started.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exitOf(child);
      }
    }
  });
  afterAll(() => rmSync(STATE_DIR, { recursive: true, force: true }));

  it('starts, refuses a second start, and stops on SIGTERM leaving no process or port', async () => {
    const first = await startCli();
    // The workers run too (a reader and an invalidator per region), and are among what must be gone afterwards.
    await eventually('a cdc reader per region', async () =>
      leftovers().filter((p) => p.includes('cdc-reader')).length === REGIONS.length ? true : undefined,
    );
    await eventually('an invalidator per region', async () =>
      leftovers().filter((p) => p.includes('invalidator/dist/main.js')).length === REGIONS.length ? true : undefined,
    );
    expect(first.endpoints.regions.map((r) => [r.region, r.home])).toEqual([
      ['life-home', true],
      ['life-edge', false],
    ]);
    const home = first.endpoints.regions[0]!;
    await withDb(home, (db) => db.query("insert into teams (id, name) values (42, 'survives restarts')"));

    const second = spawn(process.execPath, [CLI, ...ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
    let secondErr = '';
    second.stderr!.on('data', (d) => (secondErr += d));
    expect(await exitOf(second)).toBe(2);
    expect(secondErr).toContain('a sandbox is already running');
    expect(secondErr).toContain(`pid ${first.child.pid}`);

    first.child.kill('SIGTERM');
    expect(await exitOf(first.child)).toBe(0);
    await expectNothingLeft();
  });

  it('starts again on existing state and keeps its data', async () => {
    const again = await startCli();
    const edge = again.endpoints.regions[1]!;
    const name = await eventually('team 42 on the replica', () =>
      withDb(
        edge,
        async (db) => (await db.query('select name from teams where id = 42')).rows[0]?.name as string | undefined,
      ),
    );
    expect(name).toBe('survives restarts');
    again.child.kill('SIGINT');
    expect(await exitOf(again.child)).toBe(0);
    await expectNothingLeft();
  });

  // A process manager signals the pid it started: npm. Without `exec` in the start script npm's
  // shell dies with npm and `fabric up` keeps every service running, orphaned.
  it('stops everything when npm start itself gets SIGTERM', async () => {
    const viaNpm = await startCli('npm');
    await eventually('a cdc reader per region', async () =>
      leftovers().filter((p) => p.includes('cdc-reader')).length === REGIONS.length ? true : undefined,
    );
    viaNpm.child.kill('SIGTERM');
    await exitOf(viaNpm.child);
    await expectNothingLeft();
  });

  it('leaves no orphan when the CLI itself is killed with SIGKILL, and the next start takes over', async () => {
    const doomed = await startCli();
    doomed.child.kill('SIGKILL');
    await exitOf(doomed.child);
    await sleep(500);
    await expectNothingLeft();

    const next = await startCli();
    next.child.kill('SIGTERM');
    expect(await exitOf(next.child)).toBe(0);
    await expectNothingLeft();
  });
});
