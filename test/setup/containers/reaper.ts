// The containers backend's stand-in for Ryuk (whose image cannot be pulled here): what it
// creates carries STACK_LABEL, and this removes everything with the label. The global setup
// calls it before it starts (leftovers of a run that was killed) and at teardown; it also
// runs it as a watcher process, `node reaper.ts <pid> <stack> [release command...]`, which
// removes the stack once the test run's process is gone however it ended (kill -9 included),
// runs the release command (stopping an engine service the run started), then exits.
//
// Run by node itself as well as imported, so: erasable TypeScript only, no local imports.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { getContainerRuntimeClient } from 'testcontainers';

/** Label key; its value is the stack's port base, so two test stacks never remove each other. */
export const STACK_LABEL = 'dev.fabric.test-backend';

export interface Removed {
  containers: string[];
  networks: string[];
}

/**
 * Force-removes the stack's containers (with their anonymous volumes), then its networks.
 * When the engine's API is gone (podman's service stopped under a running test), podman's
 * own CLI, which needs no service, does it instead.
 */
export async function removeStack(stack: string): Promise<Removed> {
  try {
    return await removeThroughApi(stack);
  } catch (err) {
    if (!hasPodman()) throw err;
    return removeThroughPodman(stack);
  }
}

async function removeThroughApi(stack: string): Promise<Removed> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = { label: [`${STACK_LABEL}=${stack}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) await docker.getNetwork(n.Id).remove();
  return {
    containers: containers.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))),
    networks: networks.map((n) => n.Name),
  };
}

function removeThroughPodman(stack: string): Removed {
  const podman = (...args: string[]) =>
    execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')
      .filter(Boolean);
  const filter = `label=${STACK_LABEL}=${stack}`;
  const containers = podman('ps', '--all', '--filter', filter, '--format', '{{.Names}}');
  if (containers.length > 0) podman('rm', '--force', '--volumes', ...containers);
  const networks = podman('network', 'ls', '--filter', filter, '--format', '{{.Name}}');
  if (networks.length > 0) podman('network', 'rm', ...networks);
  return { containers, networks };
}

function hasPodman(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function watch(pid: number, stack: string, release: string[]): Promise<void> {
  // SIGTERM: the setup tore the stack down itself.
  process.once('SIGTERM', () => process.exit(0));
  while (alive(pid)) await sleep(1_000);
  let removed: Removed | undefined;
  // An engine that is restarting gets a minute to answer again.
  for (let attempt = 1; !removed; attempt++) {
    try {
      removed = await removeStack(stack);
    } catch (err) {
      if (attempt === 12) throw err;
      process.stderr.write(`[reaper] removing stack ${stack} failed (${(err as Error).message}); retrying\n`);
      await sleep(5_000);
    }
  }
  process.stderr.write(
    `[reaper] test run ${pid} is gone; removed ${removed.containers.length} containers, ${removed.networks.length} networks of stack ${stack}\n`,
  );
  if (release.length > 0) execFileSync(release[0]!, release.slice(1), { stdio: 'inherit' });
}

if (import.meta.main) {
  const [pid, stack, ...release] = process.argv.slice(2);
  if (!pid || !stack || !/^\d+$/.test(pid)) {
    process.stderr.write('usage: node reaper.ts <pid to watch> <stack label value> [release command...]\n');
    process.exit(2);
  }
  await watch(Number(pid), stack, release);
}
