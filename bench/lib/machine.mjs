// Machine and versions for the report.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { query } from './seed.mjs';

const require = createRequire(import.meta.url);
const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return 'n/a'; } };

export async function machineInfo(home) {
  const mem = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  const pgVersion = (await query(home.postgres.url, 'show server_version')).rows[0].server_version;
  const pkg = (name) => { try { return require(`${name}/package.json`).version; } catch { return 'n/a'; } };
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'n/a',
    memGiB: mem ? (Number(mem[1]) / 1024 / 1024).toFixed(1) : 'n/a',
    kernel: os.release(),
    node: process.version,
    postgres: pgVersion,
    redis: sh('redis-server', ['--version']).split(' ').find((s) => s.startsWith('v='))?.slice(2) ?? 'n/a',
    kafka: '3.9.1 (KRaft, one broker per region)',
    kafkajs: pkg('kafkajs'),
    ioredis: pkg('ioredis'),
    pg: pkg('pg'),
    java: sh('sh', ['-c', 'java -version 2>&1 | head -1']),
  };
}
