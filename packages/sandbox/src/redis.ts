import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ownedDir } from './run-as.js';
import { ServiceProcess } from './service-process.js';
import { waitUntilReady } from './wait.js';

export interface RedisOptions {
  region: string;
  host: string;
  port: number;
  dir: string;
  logFile: string;
  redisServer: string;
  setpriv: string;
  /** netns mode: run inside the region's network namespace. */
  netns?: string;
  logger: Logger;
}

export async function startRedis(opts: RedisOptions): Promise<ServiceProcess> {
  ownedDir(opts.dir, undefined);
  // A cache keeps nothing on disk: a restart starts cold, which is what the fabric must
  // tolerate anyway.
  const proc = ServiceProcess.start(
    {
      name: `${opts.region} redis`,
      command: opts.redisServer,
      args: [
        '--port',
        String(opts.port),
        '--bind',
        opts.host,
        '--dir',
        opts.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--daemonize',
        'no',
      ],
      logFile: opts.logFile,
      stopSignal: 'SIGTERM',
      setpriv: opts.setpriv,
      netns: opts.netns,
    },
    opts.logger,
  );
  await waitUntilReady(proc, () => ping(opts.host, opts.port), 30_000);
  return proc;
}

export async function ping(host: string, port: number): Promise<string> {
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // connect() rejects with the error; without a listener ioredis would also print it.
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}
