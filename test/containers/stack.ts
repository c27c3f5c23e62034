import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { type ComposeFile, loadCompose, ROOT } from '../deploy/compose-file.js';

/** scripts/containers.sh, which runs podman, its API and Compose v2 on this machine. */
export const CONTAINERS_SH = path.join(ROOT, 'scripts/containers.sh');

/** Why containers cannot run here (the one line `containers.sh check` prints), or undefined. */
export function containersUnavailable(): string | undefined {
  const check = spawnSync('bash', [CONTAINERS_SH, 'check'], { encoding: 'utf8' });
  if (check.status === 0) return undefined;
  return `${check.stdout}${check.stderr}`.trim() || `scripts/containers.sh check exited ${check.status}`;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (asynchronously: compose up takes minutes), never throwing. */
export function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 600_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Like run, but a non-zero exit is an error carrying the command's output. */
export async function runOk(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
): Promise<string> {
  const result = await run(command, args, env, timeoutMs);
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${path.basename(command)} ${args.join(' ')} exited ${result.code}:\n${tail}`);
  }
  return result.stdout;
}

/** The published host port of a service's container port, as the compose file maps it. */
export function hostPort(compose: ComposeFile, service: string, containerPort: number): number {
  for (const mapping of compose.services[service]?.ports ?? []) {
    const [, host, target] = /^(?:127\.0\.0\.1:)?(\d+):(\d+)$/.exec(mapping) ?? [];
    if (Number(target) === containerPort) return Number(host);
  }
  throw new Error(`${service} publishes no port for ${containerPort} in docker-compose.regions.yml`);
}

/** The regions file as compose reads it with this environment. */
export function regionsFile(env: NodeJS.ProcessEnv): ComposeFile {
  return loadCompose(env);
}

/** One line of `docker compose ps --all --format json`. */
export interface ComposePsEntry {
  Service: string;
  State: string;
  Health: string;
  ExitCode: number;
}

/** Compose 2.2x prints one JSON object per line (older releases printed one array). */
export function parsePs(stdout: string): ComposePsEntry[] {
  const text = stdout.trim();
  if (text.startsWith('[')) return JSON.parse(text) as ComposePsEntry[];
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ComposePsEntry);
}
