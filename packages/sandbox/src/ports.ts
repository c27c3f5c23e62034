import net from 'node:net';
import { ConfigError, PortTakenError } from './errors.js';

/**
 * Every region gets a block of REGION_STRIDE consecutive ports from the base; the
 * control plane sits after the last block. A fixed layout makes endpoints predictable
 * from the base alone, which the CLI and the tests rely on.
 */
export const REGION_STRIDE = 10;

export interface RegionPorts {
  postgres: number;
  kafka: number;
  kafkaController: number;
  redis: number;
  readerMetrics: number;
  invalidatorMetrics: number;
}

export interface PortPlan {
  regions: Record<string, RegionPorts>;
  controlPlane: number;
  controlPlaneMetrics: number;
}

export function planPorts(regionNames: readonly string[], base: number): PortPlan {
  const regions: Record<string, RegionPorts> = {};
  regionNames.forEach((name, i) => {
    const at = base + i * REGION_STRIDE;
    regions[name] = {
      postgres: at,
      kafka: at + 1,
      kafkaController: at + 2,
      redis: at + 3,
      readerMetrics: at + 4,
      invalidatorMetrics: at + 5,
    };
  });
  const controlPlane = base + regionNames.length * REGION_STRIDE;
  const plan = { regions, controlPlane, controlPlaneMetrics: controlPlane + 1 };
  const highest = controlPlane + 1;
  if (highest > 65535) {
    throw new ConfigError(
      'portBase',
      `${base} leaves no room: the sandbox needs ports up to ${highest}; use a base of at most ${65535 - (highest - base)}`,
    );
  }
  return plan;
}

/** Every port of the plan with a human name for error messages. */
export function listPorts(plan: PortPlan): Array<{ port: number; owner: string }> {
  const out: Array<{ port: number; owner: string }> = [];
  for (const [region, ports] of Object.entries(plan.regions)) {
    for (const [service, port] of Object.entries(ports)) out.push({ port, owner: `${region} ${service}` });
  }
  out.push({ port: plan.controlPlane, owner: 'control plane gRPC' });
  out.push({ port: plan.controlPlaneMetrics, owner: 'control plane metrics' });
  return out;
}

/** Fails with the first taken port, before anything is started, so nothing half-starts. */
export async function assertPortsFree(plan: PortPlan, host: string): Promise<void> {
  for (const { port, owner } of listPorts(plan)) {
    if (!(await isPortFree(port, host))) throw new PortTakenError(port, owner);
  }
}

export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
