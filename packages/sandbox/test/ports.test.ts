import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortsFree, ConfigError, listPorts, PortTakenError, planPorts, REGION_STRIDE } from '../src/index.js';

describe('planPorts', () => {
  it('gives each region its own block and the control plane the ports after them', () => {
    const plan = planPorts(['us-east', 'eu-west', 'ap-south'], 25400);
    expect(plan.regions['us-east']).toEqual({
      postgres: 25400,
      kafka: 25401,
      kafkaController: 25402,
      redis: 25403,
      readerMetrics: 25404,
      invalidatorMetrics: 25405,
    });
    expect(plan.regions['ap-south']!.postgres).toBe(25400 + 2 * REGION_STRIDE);
    expect(plan.controlPlane).toBe(25430);
    expect(plan.controlPlaneMetrics).toBe(25431);
  });

  it('never hands out the same port twice and stays off the default service ports', () => {
    const ports = listPorts(planPorts(['a1', 'b1', 'c1', 'd1', 'e1', 'f1', 'g1', 'h1'], 25400)).map((p) => p.port);
    expect(new Set(ports).size).toBe(ports.length);
    for (const taken of [5432, 6379, 9092]) expect(ports).not.toContain(taken);
  });

  it('refuses a base that runs past the last port, naming the largest usable base', () => {
    expect(() => planPorts(['us-east', 'eu-west'], 65530)).toThrow(ConfigError);
    expect(() => planPorts(['us-east', 'eu-west'], 65530)).toThrow(/at most 65514/);
  });
});

describe('assertPortsFree', () => {
  it('names the taken port and its owner, and says how to fix it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      // Put the blocked port where eu-west's Redis would be (offset 3 of the second block).
      const base = port - REGION_STRIDE - 3;
      const err = await assertPortsFree(planPorts(['us-east', 'eu-west'], base), '127.0.0.1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortTakenError);
      expect((err as PortTakenError).port).toBe(port);
      expect((err as Error).message).toContain('eu-west redis');
      expect((err as Error).message).toContain('--port-base');
    } finally {
      blocker.close();
    }
  });
});
