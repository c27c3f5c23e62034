import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashToken, validateControlPlaneConfig } from '@fabric/control-plane';
import { describeEndpoints, resolveSandboxConfig } from '@fabric/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { readSandboxTokens, writeControlPlaneFiles } from '../src/control-plane-files.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function endpoints(replication: 'logical' | 'physical' = 'logical') {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-cp-files-'));
  dirs.push(stateDir);
  return describeEndpoints(
    resolveSandboxConfig({ stateDir, portBase: 40000, regions: 'us-east,eu-west', home: 'eu-west', replication }),
  );
}

describe('writeControlPlaneFiles', () => {
  it('writes owner-only tokens and a config that holds only their hashes', () => {
    const e = endpoints();
    const { configFile, tokensFile, tokens } = writeControlPlaneFiles(e);
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
    expect(readSandboxTokens(e.stateDir)).toEqual(tokens);
    expect(tokens.read).not.toBe(tokens.admin);
    const text = readFileSync(configFile, 'utf8');
    expect(text).not.toContain(tokens.admin);
    const config = validateControlPlaneConfig(JSON.parse(text), path.dirname(configFile));
    expect(config.tokens).toEqual([
      { name: 'sandbox-read', scopes: ['read'], sha256: hashToken(tokens.read) },
      { name: 'sandbox-admin', scopes: ['read', 'admin'], sha256: hashToken(tokens.admin) },
    ]);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: e.controlPlane.port, allowInsecure: true });
    expect(config.metrics.port).toBe(e.controlPlane.metricsPort);
  });

  it('points at every region of the sandbox, with the replica subscription slots', () => {
    const e = endpoints();
    const config = validateControlPlaneConfig(
      JSON.parse(readFileSync(writeControlPlaneFiles(e).configFile, 'utf8')),
      '/',
    );
    const [usEast, euWest] = config.regions;
    expect(euWest).toMatchObject({
      name: 'eu-west',
      home: true,
      subscriptionSlot: undefined,
      postgresUrl: 'postgres://postgres@127.0.0.1:40010/fabric',
    });
    expect(usEast).toMatchObject({
      name: 'us-east',
      home: false,
      subscriptionSlot: 'fabric_sub_us_east',
      kafkaBrokers: ['127.0.0.1:40001'],
      topic: 'fabric.inval.us-east',
      deadLetterTopic: 'fabric.inval.us-east.dlq',
      consumerGroup: 'fabric-invalidator-us-east',
      readerStatusUrl: 'http://127.0.0.1:40004/healthz',
      invalidatorStatusUrl: 'http://127.0.0.1:40005/healthz',
    });
  });

  it('with physical standbys, points at each standby by its slot and application name on the primary', () => {
    const e = endpoints('physical');
    const config = validateControlPlaneConfig(
      JSON.parse(readFileSync(writeControlPlaneFiles(e).configFile, 'utf8')),
      '/',
    );
    expect(config.replication).toBe('physical');
    expect(config.regions[0]).toMatchObject({
      name: 'us-east',
      subscriptionSlot: undefined,
      standbySlot: 'fabric_standby_us_east',
      standbyApplicationName: 'us_east',
    });
    expect(config.regions[1]).toMatchObject({ name: 'eu-west', home: true, standbySlot: undefined });
  });

  it('keeps existing tokens across restarts', () => {
    const e = endpoints();
    const first = writeControlPlaneFiles(e).tokens;
    expect(writeControlPlaneFiles(e).tokens).toEqual(first);
  });
});
