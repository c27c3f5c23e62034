import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  invalidatorGroup,
  READER_SLOT,
  standbyApplicationName,
  standbySlotName,
  subscriptionName,
} from '@fabric/contracts';
import { type ControlPlaneConfig, hashToken } from '@fabric/control-plane';
import type { SandboxEndpoints } from '@fabric/sandbox';

/** The sandbox's control plane keeps its configuration and tokens here, beside the other state. */
export function controlPlaneDir(stateDir: string): string {
  return path.join(stateDir, 'control-plane');
}

export interface SandboxTokens {
  read: string;
  admin: string;
}

/** The tokens the sandbox's control plane accepts; undefined when none were made yet. */
export function readSandboxTokens(stateDir: string): SandboxTokens | undefined {
  try {
    const tokens = JSON.parse(
      readFileSync(path.join(controlPlaneDir(stateDir), 'tokens.json'), 'utf8'),
    ) as Partial<SandboxTokens>;
    return typeof tokens.read === 'string' && typeof tokens.admin === 'string'
      ? { read: tokens.read, admin: tokens.admin }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes tokens.json (owner-only: it holds the secrets) unless valid tokens exist, so
 * scripts keep working across restarts, and config.json, which holds only their hashes.
 */
export function writeControlPlaneFiles(endpoints: SandboxEndpoints): {
  configFile: string;
  tokensFile: string;
  tokens: SandboxTokens;
} {
  const dir = controlPlaneDir(endpoints.stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokensFile = path.join(dir, 'tokens.json');
  let tokens = readSandboxTokens(endpoints.stateDir);
  if (!tokens) {
    tokens = {
      read: `fabric_read_${randomBytes(24).toString('base64url')}`,
      admin: `fabric_admin_${randomBytes(24).toString('base64url')}`,
    };
    writeFileSync(tokensFile, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  }
  // The mode of writeFileSync applies only when it creates the file.
  chmodSync(tokensFile, 0o600);
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(controlPlaneConfigFor(endpoints, tokens), null, 2) + '\n');
  return { configFile, tokensFile, tokens };
}

/** The control plane's view of a sandbox: every region's endpoints and the sandbox's two tokens. */
export function controlPlaneConfigFor(
  endpoints: SandboxEndpoints,
  tokens: SandboxTokens,
): Omit<ControlPlaneConfig, 'tls' | 'probeTimeoutMs' | 'health' | 'limits'> {
  return {
    // The sandbox's tokens are throwaway and its host the operator's choice (--host): no TLS
    // asked of it, wherever it listens.
    listen: { host: endpoints.controlPlane.host, port: endpoints.controlPlane.port, allowInsecure: true },
    metrics: { host: endpoints.controlPlane.host, port: endpoints.controlPlane.metricsPort },
    tokens: [
      { name: 'sandbox-read', scopes: ['read'], sha256: hashToken(tokens.read) },
      { name: 'sandbox-admin', scopes: ['read', 'admin'], sha256: hashToken(tokens.admin) },
    ],
    regions: endpoints.regions.map((r) => ({
      name: r.region,
      home: r.home,
      postgresUrl: r.postgres.url,
      kafkaBrokers: r.kafka.brokers,
      topic: r.kafka.topic,
      deadLetterTopic: r.kafka.deadLetterTopic,
      consumerGroup: invalidatorGroup(r.region),
      // Workers serve their status beside their metrics, on the region's host.
      readerStatusUrl: `http://${r.postgres.host}:${r.metrics.reader}/healthz`,
      invalidatorStatusUrl: `http://${r.postgres.host}:${r.metrics.invalidator}/healthz`,
      cdcSlot: READER_SLOT,
      subscriptionSlot: r.home || endpoints.replication !== 'logical' ? undefined : subscriptionName(r.region),
      standbySlot: r.home || endpoints.replication !== 'physical' ? undefined : standbySlotName(r.region),
      standbyApplicationName:
        r.home || endpoints.replication !== 'physical' ? undefined : standbyApplicationName(r.region),
    })),
    replication: endpoints.replication,
  };
}
