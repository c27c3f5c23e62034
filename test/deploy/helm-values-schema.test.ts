import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART, ensureHelm, helm, valuesFile } from './helm.js';

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema is walked key by key
type Schema = Record<string, any>;
const SCHEMA: Schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));
const DEFAULTS = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));

/**
 * Where free keys are intended: Kubernetes objects the chart passes through to the
 * manifests (their fields are checked there, against the Kubernetes schemas), and Helm's
 * `global`. Nothing else may leave additionalProperties open.
 */
const PASS_THROUGH = new Set([
  '#/definitions/kubernetesObject',
  '#/definitions/envVar',
  '#/definitions/volume',
  '#/definitions/volumeMount',
  '#/properties/global',
]);

const resolve = (s: Schema): Schema =>
  s.$ref
    ? resolve(
        s.$ref
          .slice(2)
          .split('/')
          .reduce((node: Schema, key: string) => node[key], SCHEMA),
      )
    : s;
const isObjectSchema = (s: Schema) => s.type === 'object' || (Array.isArray(s.type) && s.type.includes('object'));

/** Every schema that describes values, by its JSON pointer; overlays (if/then/else, allOf) apart. */
function schemas(node: Schema, at: string, out: Map<string, Schema>, overlays: Array<[string, Schema, Schema]>) {
  out.set(at, node);
  for (const [key, child] of Object.entries(node.properties ?? {}))
    schemas(child as Schema, `${at}/properties/${key}`, out, overlays);
  for (const [key, child] of Object.entries(node.definitions ?? {}))
    schemas(child as Schema, `${at}/definitions/${key}`, out, overlays);
  if (node.items) schemas(node.items, `${at}/items`, out, overlays);
  if (typeof node.additionalProperties === 'object')
    schemas(node.additionalProperties, `${at}/additionalProperties`, out, overlays);
  for (const [i, child] of (node.oneOf ?? node.anyOf ?? []).entries())
    schemas(child, `${at}/oneOf/${i}`, out, overlays);
  for (const key of ['if', 'then', 'else'] as const) if (node[key]) overlays.push([`${at}/${key}`, node[key], node]);
  for (const [i, child] of (node.allOf ?? []).entries()) overlays.push([`${at}/allOf/${i}`, child, node]);
}

describe('values.schema.json refuses what it does not know, at every level', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const refusal = (extra: string[]) => {
    const run = helm(binary, ['template', 'fabric-eu-west', CHART, '-f', valuesFile('eu-west'), ...extra]);
    expect(run.status, run.output).not.toBe(0);
    return run.output;
  };

  it('closes every object schema: additionalProperties false, or a typed map, or a named pass-through', () => {
    const all = new Map<string, Schema>();
    const overlays: Array<[string, Schema, Schema]> = [];
    schemas(SCHEMA, '#', all, overlays);
    const open: string[] = [];
    for (const [at, s] of all) {
      if (!isObjectSchema(s) && !s.properties) continue;
      const closed = s.additionalProperties === false || typeof s.additionalProperties === 'object';
      if (!closed && !(PASS_THROUGH.has(at) && s.additionalProperties === true)) open.push(at);
    }
    expect(open).toEqual([]);
    for (const at of PASS_THROUGH) expect(all.get(at)?.additionalProperties, at).toBe(true);
    // An overlay may only constrain properties its object declares, or it would let new ones in.
    const stray: string[] = [];
    const check = (overlay: Schema, base: Schema, at: string) => {
      const declared = resolve(base).properties ?? {};
      for (const [key, child] of Object.entries(overlay.properties ?? {})) {
        if (!(key in declared)) stray.push(`${at}/properties/${key}`);
        else if ((child as Schema).properties) check(child as Schema, declared[key], `${at}/properties/${key}`);
      }
    };
    for (const [at, overlay, base] of overlays) check(overlay, base, at);
    expect(stray).toEqual([]);
  });

  it('refuses the typos that used to pass silently, naming the field', () => {
    const output = refusal(['--set', 'invalidator.replica=3', '--set', 'redis.tls.enable=true']);
    expect(output).toContain('- invalidator: Additional property replica is not allowed');
    expect(output).toContain('- redis.tls: Additional property enable is not allowed');
    const lint = helm(binary, ['lint', CHART, '-f', valuesFile('eu-west'), '--set', 'invalidator.replica=3']);
    expect(lint.status).not.toBe(0);
    expect(lint.output).toContain('invalidator: Additional property replica is not allowed');
  });

  it('refuses a misspelt key in every map of the default values, naming its path', () => {
    // Each map of values.yaml whose schema is closed, by its dotted path.
    const closedMaps: string[] = [];
    const walk = (value: unknown, schema: Schema, at: string[]) => {
      const s = resolve(schema);
      if (typeof value !== 'object' || value === null || Array.isArray(value) || s.additionalProperties !== false)
        return;
      closedMaps.push(at.join('.'));
      for (const [key, child] of Object.entries(value))
        if (s.properties?.[key]) walk(child, s.properties[key], [...at, key]);
    };
    walk(DEFAULTS, SCHEMA, []);
    expect(closedMaps.length).toBeGreaterThan(30);
    const typos = closedMaps.map((at) => (at ? `${at}.misspelt` : 'misspelt'));
    const output = refusal(typos.flatMap((t) => ['--set', `${t}=1`]));
    for (const at of closedMaps)
      expect(output).toContain(`- ${at || '(root)'}: Additional property misspelt is not allowed`);
  });

  it('refuses a misspelt key inside list items and region entries too', () => {
    const region = {
      name: 'eu-west',
      postgresUrl: 'postgres://p/fabric',
      kafkaBrokers: ['k:9092'],
      readerStatusUrl: 'http://r:9464/healthz',
      invalidatorStatusUrl: 'http://i:9464/healthz',
      kafkaTLS: true,
      kafkaSasl: { mechanism: 'scram-sha-512', username: 'cp', pasword: 'x' },
    };
    const output = refusal([
      '--set-json',
      `controlPlane.regions=${JSON.stringify([region])}`,
      '--set-json',
      `controlPlane.tokens=${JSON.stringify([{ name: 'ops', scopes: ['read'], sha256: 'a'.repeat(64), scope: 'x' }])}`,
      '--set-json',
      'imagePullSecrets=[{"nmae":"registry"}]',
    ]);
    expect(output).toContain('- controlPlane.regions.0: Additional property kafkaTLS is not allowed');
    expect(output).toContain('- controlPlane.regions.0.kafkaSasl: Additional property pasword is not allowed');
    expect(output).toContain('- controlPlane.tokens.0: Additional property scope is not allowed');
    expect(output).toContain('- imagePullSecrets.0: Additional property nmae is not allowed');
  });
});
