import { resolveSandboxConfig, type SandboxConfig } from '@fabric/sandbox';

export const SANDBOX_OPTIONS = {
  regions: { type: 'string' },
  home: { type: 'string' },
  'port-base': { type: 'string' },
  'state-dir': { type: 'string' },
  netns: { type: 'boolean' },
  postgres: { type: 'string' },
  replication: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SANDBOX_OPTIONS_HELP = `  --regions a,b,c    Region names (default us-east,eu-west,ap-south; env FABRIC_REGIONS)
  --home NAME        Region holding the primary (default: the first region)
  --port-base N      First port of the sandbox's range (default 25400; env FABRIC_PORT_BASE).
                     Each region takes 10 ports from there, the control plane the next 2.
  --state-dir DIR    Databases, broker data, logs (default .fabric/sandbox; env FABRIC_STATE_DIR)
  --netns            Each region in its own network namespace on a bridge (root only; env
                     FABRIC_NETNS=1), so deploy/chaos/partition.sh can cut a region off
  --postgres 15|16|17|18  PostgreSQL major of every region (default 17; env FABRIC_POSTGRES)
  --replication physical|logical
                     physical (default): the other regions are streaming standbys of the
                     primary and each reader decodes its own standby (PostgreSQL 16+).
                     logical: each region subscribes to a publication (the only mode on 15).
                     Env FABRIC_REPLICATION. A state directory keeps the choice it was made with.`;

/** Flags win over the environment, which wins over defaults; validated once, here. */
export function sandboxConfigFrom(values: Record<string, unknown>, env = process.env): SandboxConfig {
  return resolveSandboxConfig({
    regions: values.regions ?? env.FABRIC_REGIONS,
    home: values.home ?? env.FABRIC_HOME_REGION,
    portBase: values['port-base'] ?? env.FABRIC_PORT_BASE,
    stateDir: values['state-dir'] ?? env.FABRIC_STATE_DIR,
    network: values.netns || env.FABRIC_NETNS === '1' ? 'netns' : 'shared',
    postgres: values.postgres ?? env.FABRIC_POSTGRES,
    replication: values.replication ?? env.FABRIC_REPLICATION,
  });
}
