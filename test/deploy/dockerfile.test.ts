import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './compose-file.js';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, keyword, args] = /^\s*(\w+)\s+(.*)$/.exec(line)!;
      return { keyword: keyword!.toUpperCase(), args: args!.trim() };
    });
}

/** Each package's `bin` entries, as paths from the repository root. */
function binEntries(): Map<string, string> {
  const bins = new Map<string, string>();
  for (const dir of readdirSync(path.join(ROOT, 'packages'))) {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
    };
    for (const [name, file] of Object.entries(manifest.bin ?? {})) bins.set(name, path.join('packages', dir, file));
  }
  return bins;
}

describe('Dockerfile', () => {
  const steps = instructions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const stageStarts = steps.flatMap((s, i) => (s.keyword === 'FROM' ? [i] : []));
  const build = steps.slice(stageStarts[0], stageStarts[1]);
  const runtime = steps.slice(stageStarts[stageStarts.length - 1]);
  const runs = build
    .filter((s) => s.keyword === 'RUN')
    .map((s) => s.args)
    .join('\n');

  it('builds on node:24-bookworm-slim in two stages', () => {
    expect(steps.find((s) => s.keyword === 'ARG')?.args).toBe('NODE_IMAGE=node:24-bookworm-slim');
    expect(stageStarts).toHaveLength(2);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${...} syntax
    expect(build[0]!.args).toBe('${NODE_IMAGE} AS build');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${...} syntax
    expect(runtime[0]!.args).toBe('${NODE_IMAGE}');
  });

  it('installs from the lock file, generates the protobuf code and builds with turbo', () => {
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npx --no-install buf generate/);
    expect(runs).toMatch(/npx --no-install turbo run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    expect(runs.indexOf('buf generate')).toBeLessThan(runs.indexOf('turbo run build'));
  });

  it('copies every workspace manifest before npm ci, so the install layer caches', () => {
    const ciStep = build.findIndex((s) => s.keyword === 'RUN' && /npm ci\b/.test(s.args));
    const copied = build
      .slice(0, ciStep)
      .filter((s) => s.keyword === 'COPY')
      .map((s) => s.args);
    for (const dir of readdirSync(path.join(ROOT, 'packages'))) {
      expect(copied, dir).toContain(`packages/${dir}/package.json packages/${dir}/`);
    }
  });

  it('runs as a numeric non-root user under tini', () => {
    const user = runtime.filter((s) => s.keyword === 'USER').at(-1)?.args;
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(runtime.some((s) => s.keyword === 'RUN' && /apt-get install[^\n]*\btini\b/.test(s.args))).toBe(true);
    expect(JSON.parse(runtime.find((s) => s.keyword === 'ENTRYPOINT')!.args)).toEqual(['/usr/bin/tini', '--']);
  });

  it('ships the entrypoint of every service, and each one starts', () => {
    const bins = binEntries();
    expect([...bins.keys()].sort()).toEqual([
      'fabric',
      'fabric-cdc-reader',
      'fabric-control-plane',
      'fabric-invalidator',
    ]);
    // The build copies packages/*/dist; every bin must live there to be in the image.
    for (const [name, file] of bins) {
      expect(file, name).toMatch(/^packages\/[^/]+\/dist\//);
      expect(existsSync(path.join(ROOT, file)), `${file} (run npm run build)`).toBe(true);
      const help = spawnSync(process.execPath, [file, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(help.status, `${name} --help: ${help.stderr}`).toBe(0);
      expect(help.stdout, name).toMatch(/usage/i);
    }
    expect(JSON.parse(runtime.find((s) => s.keyword === 'CMD')!.args)).toEqual(['node', bins.get('fabric'), '--help']);
  });

  it('lets into the build context only what the build copies', () => {
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = steps
      .filter((s) => s.keyword === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(
        allowed.some((a) => source === a || source.startsWith(`${a}/`)),
        `${source} is excluded by .dockerignore`,
      ).toBe(true);
    }
    for (const generated of ['packages/*/dist', 'packages/*/node_modules', 'packages/proto/src/gen'])
      expect(ignore).toContain(generated);
    expect(allowed.some((a) => /node_modules|\.fabric|\.git/.test(a))).toBe(false);
  });
});
