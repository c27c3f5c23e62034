import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config-error.js';
import { type MainIo, runMain } from '../src/run-main.js';

class RulesError extends Error {}

/** Streams that take a while to call back, as a pipe does, and an exit that records what it saw. */
function slowIo() {
  const written = { stdout: '', stderr: '' };
  const events: string[] = [];
  const stream = (name: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        setTimeout(() => {
          written[name] += chunk.toString();
          events.push(`${name} flushed`);
          done();
        }, 20);
      },
    });
  let exited: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (exited = resolve));
  const io: MainIo = {
    stdout: stream('stdout'),
    stderr: stream('stderr'),
    exit: (code) => {
      events.push(`exit ${code}`);
      exited(code);
    },
  };
  return { io, written, events, exit };
}

describe('runMain', () => {
  it('exits with the code main returns, only after what it wrote reached the streams', async () => {
    const { io, written, events, exit } = slowIo();
    const answer = 'x'.repeat(100_000);
    await runMain(
      'fabric',
      async () => {
        io.stdout.write(answer);
        return 0;
      },
      { io },
    );
    expect(await exit).toBe(0);
    expect(written.stdout).toBe(answer);
    expect(events.at(-1)).toBe('exit 0');
    expect(events.indexOf('exit 0')).toBeGreaterThan(events.indexOf('stdout flushed'));
  });

  it.each([
    ['a ConfigError', new ConfigError('--region', '"EU" is not a region name')],
    ['a listed error class', new RulesError('rules.yaml:3: unknown table')],
    [
      'a bad flag',
      Object.assign(new TypeError("Unknown option '--regoin'"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }),
    ],
  ])('prints %s as one line and exits 2', async (_what, err) => {
    const { io, written, exit } = slowIo();
    await runMain('fabric-cdc-reader', () => Promise.reject(err), { io, knownErrors: [RulesError] });
    expect(await exit).toBe(2);
    expect(written.stderr).toBe(`fabric-cdc-reader: ${err.message}\n`);
  });

  it('keeps the stack of anything else and exits 1', async () => {
    const { io, written, exit } = slowIo();
    const bug = new TypeError('cannot read properties of undefined');
    await runMain('fabric-invalidator', () => Promise.reject(bug), { io, knownErrors: [RulesError] });
    expect(await exit).toBe(1);
    expect(written.stderr).toBe(`fabric-invalidator: ${bug.stack}\n`);
    expect(written.stderr.split('\n').length).toBeGreaterThan(2);
  });

  it('does not take an unlisted typed error for an expected one', async () => {
    const { io, exit } = slowIo();
    await runMain('fabric', () => Promise.reject(new RulesError('boom')), { io });
    expect(await exit).toBe(1);
  });

  it('survives a rejection that is not an Error', async () => {
    const { io, written, exit } = slowIo();
    await runMain('fabric', () => Promise.reject('just a string'), { io });
    expect(await exit).toBe(1);
    expect(written.stderr).toBe('fabric: just a string\n');
  });
});
