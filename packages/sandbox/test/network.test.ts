import { describe, expect, it } from 'vitest';
import { describeEndpoints, planNetwork, resolveSandboxConfig } from '../src/index.js';

describe('network plan', () => {
  it('shares one address by default', () => {
    const config = resolveSandboxConfig({ portBase: 25400 });
    expect(planNetwork(config)).toEqual({
      mode: 'shared',
      regions: {
        'us-east': { host: '127.0.0.1' },
        'eu-west': { host: '127.0.0.1' },
        'ap-south': { host: '127.0.0.1' },
      },
    });
  });

  it('gives each region a namespace and an address of its own in netns mode, named after the port base', () => {
    const config = resolveSandboxConfig({ portBase: 25400, network: 'netns' });
    const plan = planNetwork(config);
    expect(plan).toMatchObject({
      mode: 'netns',
      bridge: 'fab25400',
      gateway: '10.201.236.1',
      subnet: '10.201.236.0/24',
    });
    expect(plan.regions['eu-west']).toEqual({
      host: '10.201.236.11',
      netns: 'fabric-25400-eu-west',
      veth: 'fv25400r1',
    });
    // Interface names must fit IFNAMSIZ (15) including the "i" of the inner end.
    for (const r of Object.values(plan.regions)) expect(`${r.veth}i`.length).toBeLessThanOrEqual(15);
    const endpoints = describeEndpoints(config);
    expect(endpoints.regions[1]).toMatchObject({
      netns: 'fabric-25400-eu-west',
      postgres: { url: 'postgres://postgres@10.201.236.11:25410/fabric' },
      redis: { url: 'redis://10.201.236.11:25413' },
    });
    // The control plane stays on the host, reachable by the CLI.
    expect(endpoints.controlPlane.host).toBe('127.0.0.1');
  });

  it('keeps sandboxes on nearby port bases apart', () => {
    const subnets = [25400, 26400, 27300, 29400, 30400, 31400, 32400].map(
      (portBase) => planNetwork(resolveSandboxConfig({ portBase, network: 'netns' })).subnet,
    );
    expect(new Set(subnets).size).toBe(subnets.length);
  });

  it('names the field of a bad network mode', () => {
    expect(() => resolveSandboxConfig({ network: 'bridge' })).toThrow(/^network: must be "shared" or "netns"/);
  });
});
