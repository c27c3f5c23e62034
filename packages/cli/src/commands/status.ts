import net from 'node:net';
import { parseArgs } from 'node:util';
import { type RegionEndpoints, readSandboxState } from '@fabric/sandbox';
import { SANDBOX_OPTIONS, SANDBOX_OPTIONS_HELP, sandboxConfigFrom } from '../sandbox-options.js';
import { endpointsTable } from './endpoints-table.js';

export const STATUS_HELP = `Usage: fabric status [options]

Shows the running sandbox's regions and endpoints and whether PostgreSQL, Kafka and Redis
accept connections. Exits 1 when no sandbox runs from the state directory or a service
does not answer.

Options:
${SANDBOX_OPTIONS_HELP}
  --json             Print as JSON
`;

export async function status(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SANDBOX_OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(STATUS_HELP);
    return 0;
  }
  const config = sandboxConfigFrom(values);
  const state = readSandboxState(config.stateDir);
  if (!state) {
    const msg = `no sandbox is running from ${config.stateDir}; start one with \`npm start\` or \`fabric up\``;
    if (values.json) process.stdout.write(JSON.stringify({ running: false, stateDir: config.stateDir }) + '\n');
    else process.stderr.write(msg + '\n');
    return 1;
  }
  const health = new Map<string, string>();
  const detail: Record<string, Record<string, boolean>> = {};
  for (const r of state.endpoints.regions) {
    detail[r.region] = await probeRegion(r);
    const down = Object.entries(detail[r.region]!)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    health.set(r.region, down.length ? `down: ${down.join(',')}` : 'ok');
  }
  const allUp = [...health.values()].every((h) => h === 'ok');
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        running: true,
        pid: state.pid,
        readyAt: state.readyAt,
        health: detail,
        endpoints: state.endpoints,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      `sandbox pid ${state.pid}, ready since ${state.readyAt}\n\n${endpointsTable(state.endpoints, health)}\n`,
    );
  }
  return allUp ? 0 : 1;
}

async function probeRegion(r: RegionEndpoints): Promise<Record<string, boolean>> {
  const [host, port] = r.kafka.brokers[0]!.split(':') as [string, string];
  const [postgres, kafka, redis] = await Promise.all([
    canConnect(r.postgres.host, r.postgres.port),
    canConnect(host, Number(port)),
    canConnect(r.redis.host, r.redis.port),
  ]);
  return { postgres, kafka, redis };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
