// Machine and versions for the report.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { RegionEndpoints } from '@fabric/sandbox';
import { query } from './query.js';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memGiB: string;
  kernel: string;
  node: string;
  postgres: string;
  redis: string;
  kafka: string;
  kafkajs: string;
  ioredis: string;
  pg: string;
  java: string;
}

const require = createRequire(import.meta.url);

const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'n/a';
  }
};

const pkgVersion = (name: string): string => {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'n/a';
  }
};

export async function machineInfo(home: RegionEndpoints): Promise<MachineInfo> {
  const mem = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  const pgVersion =
    (await query<{ server_version: string }>(home.postgres.url, 'show server_version')).rows[0]?.server_version ??
    'n/a';
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'n/a',
    memGiB: mem ? (Number(mem[1]) / 1024 / 1024).toFixed(1) : 'n/a',
    kernel: os.release(),
    node: process.version,
    postgres: pgVersion,
    redis:
      sh('redis-server', ['--version'])
        .split(' ')
        .find((s) => s.startsWith('v='))
        ?.slice(2) ?? 'n/a',
    kafka: '3.9.1 (KRaft, one broker per region)',
    kafkajs: pkgVersion('kafkajs'),
    ioredis: pkgVersion('ioredis'),
    pg: pkgVersion('pg'),
    java: sh('sh', ['-c', 'java -version 2>&1 | head -1']),
  };
}
