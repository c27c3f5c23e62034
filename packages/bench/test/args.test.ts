import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/args.js';

describe('bench flags', () => {
  it('defaults', () => {
    expect(parseBenchArgs([])).toEqual({
      help: false,
      rate: 1000,
      duration: 30,
      warmup: 15,
      batch: 1,
      regions: 'us-east,eu-west,ap-south',
      portBase: 24400,
      stateDir: '.fabric/bench',
      rows: 20000,
      stepSeconds: 10,
      maxRate: 32000,
      outageSeconds: 20,
      skipBaselines: false,
      skipDebezium: false,
      skipProfile: false,
      skipSolo: false,
      skipTopologies: false,
      postgres: 17,
      phase: 'all',
      out: 'BENCHMARKS.md',
      json: false,
    });
  });
  it('refuses a PostgreSQL major physical standbys cannot run on', () => {
    expect(() => parseBenchArgs(['--postgres', '15'])).toThrow(/--postgres must be 16, 17 or 18/);
  });
  it('parses every flag', () => {
    const o = parseBenchArgs([
      '--rate',
      '500',
      '--duration',
      '5',
      '--warmup',
      '0',
      '--batch',
      '2.7',
      '--regions',
      'a,b',
      '--port-base',
      '40000',
      '--state-dir',
      '/tmp/s',
      '--rows',
      '2000',
      '--step-seconds',
      '4',
      '--max-rate',
      '1000',
      '--outage-seconds',
      '30',
      '--skip-baselines',
      '--skip-debezium',
      '--skip-profile',
      '--skip-solo',
      '--skip-topologies',
      '--postgres',
      '18',
      '--phase',
      'sdk',
      '--out',
      '/tmp/r.md',
      '--json',
      '-h',
    ]);
    expect(o).toEqual({
      help: true,
      rate: 500,
      duration: 5,
      warmup: 0,
      batch: 2,
      regions: 'a,b',
      portBase: 40000,
      stateDir: '/tmp/s',
      rows: 2000,
      stepSeconds: 4,
      maxRate: 1000,
      outageSeconds: 30,
      skipBaselines: true,
      skipDebezium: true,
      skipProfile: true,
      skipSolo: true,
      skipTopologies: true,
      postgres: 18,
      phase: 'sdk',
      out: '/tmp/r.md',
      json: true,
    });
  });
  it('rejects bad numbers and unknown flags', () => {
    expect(() => parseBenchArgs(['--rate', 'x'])).toThrow('--rate must be a number ≥ 1');
    expect(() => parseBenchArgs(['--rows', '10'])).toThrow('--rows must be a number ≥ 100');
    expect(() => parseBenchArgs(['--port-base', '80'])).toThrow('--port-base must be a number ≥ 1024');
    expect(() => parseBenchArgs(['--nope'])).toThrow();
    expect(() => parseBenchArgs(['--phase', 'latency'])).toThrow(/--phase must be one of all, sdk, .*got latency/);
  });
});
