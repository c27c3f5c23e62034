import { createRequire } from 'node:module';
import path from 'node:path';
import type { Sandbox } from '@fabric/sandbox';

const require = createRequire(import.meta.url);

/** Entry script of a workspace package's worker, resolved like any dependency. */
export function workerScript(pkg: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');
}

export const DEFAULT_RULES = path.resolve(
  path.dirname(require.resolve('@fabric/cdc-reader/package.json')),
  '../../deploy/key-rules.demo.yaml',
);

/** One CDC reader per region, against the region's own database, supervised. */
export function startReaders(sandbox: Sandbox, rulesPath: string): void {
  const script = workerScript('@fabric/cdc-reader');
  for (const region of sandbox.endpoints.regions) {
    const args = [
      script,
      '--region',
      region.region,
      '--postgres',
      region.postgres.url,
      '--kafka',
      region.kafka.brokers.join(','),
      '--rules',
      rulesPath,
      // The continuity record lives beside the cache it protects.
      '--redis',
      region.redis.url,
      '--metrics-host',
      region.postgres.host,
      '--metrics-port',
      String(region.metrics.reader),
      '--replication',
      sandbox.config.replication,
      ...(region.home ? ['--home'] : []),
    ];
    sandbox.startWorker(region.region, 'cdc-reader', { command: process.execPath, args, stopSignal: 'SIGTERM' });
  }
}

/** One invalidator per region, between the region's topic and the region's Redis, supervised. */
export function startInvalidators(sandbox: Sandbox): void {
  const script = workerScript('@fabric/invalidator');
  for (const region of sandbox.endpoints.regions) {
    const args = [
      script,
      '--region',
      region.region,
      '--kafka',
      region.kafka.brokers.join(','),
      '--redis',
      region.redis.url,
      '--topic',
      region.kafka.topic,
      '--dlq-topic',
      region.kafka.deadLetterTopic,
      '--metrics-host',
      region.redis.host,
      '--metrics-port',
      String(region.metrics.invalidator),
    ];
    sandbox.startWorker(region.region, 'invalidator', { command: process.execPath, args, stopSignal: 'SIGTERM' });
  }
}
