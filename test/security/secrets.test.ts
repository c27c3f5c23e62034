import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';

const INVALIDATOR = path.resolve('packages/invalidator/dist/main.js');
const READER = path.resolve('packages/cdc-reader/dist/main.js');
const PASSWORD = 'hunter2-do-not-print';
/** Nothing listens here (this suite's range, 24220–24229): every connection fails. */
const DEAD_PORT = 24220;

describe('no secret in a log line or an error', () => {
  const region = inject('endpoints').regions[0]!;
  const children: Array<ReturnType<typeof spawn>> = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  /** Runs a component, collecting all it writes; resolves once `done(output)` or it exits. */
  const run = async (file: string, args: string[], done: (output: string) => boolean) => {
    const child = spawn(process.execPath, [file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FABRIC_LOG_LEVEL: 'debug' },
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      'the failure reported',
      async () => (child.exitCode !== null || done(output) ? true : undefined),
      30_000,
    );
    return { output, exitCode: child.exitCode };
  };

  it('a Redis URL it cannot parse is refused by flag, without the password', async () => {
    const { output, exitCode } = await run(
      INVALIDATOR,
      [
        '--region',
        region.region,
        '--kafka',
        region.kafka.brokers[0]!,
        '--redis',
        `redis://inv:${PASSWORD}@127.0.0.1:999999`,
      ],
      () => false,
    );
    expect(exitCode).toBe(2);
    expect(output).toMatch(/--redis: "redis:\/\/inv:\*\*\*@/);
    expect(output).not.toContain(PASSWORD);
  });

  it('an unreachable Redis with a password in its URL: logged as down, the password nowhere', async () => {
    const { output } = await run(
      INVALIDATOR,
      [
        ...['--region', region.region, '--kafka', region.kafka.brokers[0]!],
        ...['--redis', `redis://inv:${PASSWORD}@127.0.0.1:${DEAD_PORT}`, '--topic', `${region.kafka.topic}.secrets`],
      ],
      (out) => /ECONNREFUSED/.test(out) && /redis not ready yet/.test(out),
    );
    expect(output).toMatch(/ECONNREFUSED/);
    // The warning names where it is trying to reach, so an operator can check the address,
    // and that description is built without the password rather than masked after the fact.
    expect(output).toContain(`"redis":"redis://inv@127.0.0.1:${DEAD_PORT}/0"`);
    expect(output).not.toContain(PASSWORD);
  });

  it('a PostgreSQL URL with a password the reader cannot use: refused, the password nowhere', async () => {
    for (const [url, says] of [
      [
        `postgres://fabric:${PASSWORD}@127.0.0.1:${DEAD_PORT}/fabric`,
        `fabric-cdc-reader: cannot connect to PostgreSQL at postgres://fabric:***@127.0.0.1:${DEAD_PORT}/fabric`,
      ],
      [`postgres://fabric:${PASSWORD}@127.0.0.1:999999/fabric`, 'fabric-cdc-reader: --postgres: is not a URL'],
    ] as const) {
      const { output, exitCode } = await run(
        READER,
        [
          ...['--region', region.region, '--kafka', region.kafka.brokers[0]!, '--postgres', url],
          ...['--rules', 'deploy/key-rules.demo.yaml', '--continuity', 'off'],
        ],
        () => false,
      );
      // One line an operator can act on (exit 2, not a stack), naming the URL with its
      // password masked: without the mask the message would quote it.
      expect(exitCode).toBe(2);
      expect(output).toContain(says);
      expect(output).not.toContain(PASSWORD);
    }
  });
});
