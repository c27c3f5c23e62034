import { execFileSync } from 'node:child_process';
import type { Logger } from 'pino';
import type { SandboxConfig } from './config.js';
import { SandboxError } from './errors.js';

/** Where one region's services listen, and the network namespace they run in (if any). */
export interface RegionNetwork {
  host: string;
  netns?: string;
  /** Host side of the region's veth pair, on the sandbox bridge. */
  veth?: string;
}

export interface NetworkPlan {
  mode: 'shared' | 'netns';
  /** netns mode: the bridge joining the regions, and its address in the root namespace. */
  bridge?: string;
  gateway?: string;
  subnet?: string;
  regions: Record<string, RegionNetwork>;
}

/**
 * shared: every region on one loopback address (the default, needs no privileges).
 * netns: each region in a network namespace of its own, joined by a bridge, so a chaos
 * script can cut one region off at the kernel (routes), as a real partition would.
 * Names and the /24 derive from the port base, so two sandboxes never share them.
 */
export function planNetwork(config: SandboxConfig): NetworkPlan {
  if (config.network === 'shared') {
    return { mode: 'shared', regions: Object.fromEntries(config.regions.map((r) => [r.name, { host: config.host }])) };
  }
  const id = config.portBase;
  // Port bases less than 2,560 apart get distinct /24s (base/10 mod 256).
  const net = `10.201.${Math.floor(id / 10) % 256}`;
  return {
    mode: 'netns',
    bridge: `fab${id}`,
    gateway: `${net}.1`,
    subnet: `${net}.0/24`,
    regions: Object.fromEntries(
      config.regions.map((r, i) => [
        r.name,
        { host: `${net}.${10 + i}`, netns: `fabric-${id}-${r.name}`, veth: `fv${id}r${i}` },
      ]),
    ),
  };
}

export class NetworkSetupError extends SandboxError {
  constructor(step: string, detail: string) {
    super(
      `network namespaces: ${step} failed: ${detail.trim()} (netns mode needs root and the ip command from iproute2; or run without --netns)`,
    );
  }
}

function ip(args: string[], opts: { ignoreFailure?: boolean } = {}): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if (opts.ignoreFailure) return;
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message;
    throw new NetworkSetupError(`ip ${args.join(' ')}`, stderr);
  }
}

/** Builds the bridge and one namespace per region; leftovers of a killed sandbox are replaced. */
export function setUpNetwork(plan: NetworkPlan, logger: Logger): void {
  if (plan.mode === 'shared') return;
  tearDownNetwork(plan);
  ip(['link', 'add', 'name', plan.bridge!, 'type', 'bridge']);
  ip(['addr', 'add', `${plan.gateway}/24`, 'dev', plan.bridge!]);
  ip(['link', 'set', plan.bridge!, 'up']);
  for (const [region, net] of Object.entries(plan.regions)) {
    const inner = `${net.veth}i`;
    ip(['netns', 'add', net.netns!]);
    ip(['link', 'add', net.veth!, 'type', 'veth', 'peer', 'name', inner]);
    ip(['link', 'set', inner, 'netns', net.netns!]);
    ip(['-n', net.netns!, 'addr', 'add', `${net.host}/24`, 'dev', inner]);
    ip(['-n', net.netns!, 'link', 'set', inner, 'up']);
    ip(['-n', net.netns!, 'link', 'set', 'lo', 'up']);
    ip(['link', 'set', net.veth!, 'master', plan.bridge!]);
    ip(['link', 'set', net.veth!, 'up']);
    logger.debug({ region, netns: net.netns, host: net.host }, 'region network ready');
  }
}

/** Idempotent: missing pieces are fine. Deleting a namespace also deletes its veth pair. */
export function tearDownNetwork(plan: NetworkPlan): void {
  if (plan.mode === 'shared') return;
  for (const net of Object.values(plan.regions)) {
    ip(['netns', 'delete', net.netns!], { ignoreFailure: true });
    ip(['link', 'delete', net.veth!], { ignoreFailure: true });
  }
  ip(['link', 'delete', plan.bridge!], { ignoreFailure: true });
}
