import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT_BASE, DEFAULT_REGIONS, listPorts, planPorts } from '../src/index.js';

/**
 * Linux hands out outgoing connections' local ports from 32768 up (ip_local_port_range), so
 * a server port there can be taken by any client at any moment: a sandbox that starts on
 * one fails at random. Every port the sandbox binds stays below it.
 */
const EPHEMERAL_START = 32768;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The port bases the integration tests start sandboxes on, read from their sources. */
function integrationTestBases(): Map<number, string> {
  const bases = new Map<number, string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  for (const file of walk(path.join(ROOT, 'test'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/PORT_BASE\s*(?:=|\?\?)\s*(\d+)/g))
      bases.set(Number(m[1]), path.relative(ROOT, file));
  }
  return bases;
}

describe('the port plan stays below the ephemeral range', () => {
  it('for the default base', () => {
    const ports = listPorts(planPorts(DEFAULT_REGIONS, DEFAULT_PORT_BASE));
    expect(ports.filter((p) => p.port >= EPHEMERAL_START)).toEqual([]);
  });

  it('for every base the integration tests use', () => {
    const bases = integrationTestBases();
    // The shared sandbox, the lifecycle test, the chaos suite and the control-plane pipeline test.
    expect([...bases.keys()].sort()).toEqual(expect.arrayContaining([26400, 27300, 30400, 30700]));
    for (const [base, file] of bases) {
      const high = listPorts(planPorts(DEFAULT_REGIONS, base)).filter((p) => p.port >= EPHEMERAL_START);
      expect(high, `${file}: port base ${base}`).toEqual([]);
    }
  });

  it('notices a base whose plan reaches into the range', () => {
    const high = listPorts(planPorts(DEFAULT_REGIONS, EPHEMERAL_START - 20)).filter((p) => p.port >= EPHEMERAL_START);
    expect(high.map((p) => p.owner)).toContain('control plane gRPC');
  });
});
