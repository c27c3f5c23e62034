import { readFileSync } from 'node:fs';
import { ControlPlaneClient } from '@fabric/control-plane';
import { readSandboxState } from '@fabric/sandbox';
import { readSandboxTokens } from './control-plane-files.js';
import { sandboxConfigFrom } from './sandbox-options.js';
import { UsageError } from './usage.js';

export const CONTROL_PLANE_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONTROL_PLANE_OPTIONS_HELP = `
Connection (default: the sandbox running from the state directory, with its admin token):
  --server HOST:PORT     Control plane address (env FABRIC_CONTROL_PLANE)
  --token TOKEN          Bearer token (env FABRIC_TOKEN)
  --state-dir DIR        Sandbox state directory (default .fabric/sandbox; env FABRIC_STATE_DIR)
  --tls-ca FILE          Use TLS, trusting this CA
  --tls-cert FILE        Client certificate and key, for a control plane that requires mTLS
  --tls-key FILE
  --json                 Machine-readable output on stdout`;

interface ConnectionValues {
  server?: string;
  token?: string;
  'state-dir'?: string;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
}

/** Flags win over the environment, which wins over the running sandbox. */
export function connectControlPlane(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): ControlPlaneClient {
  const stateDir = sandboxConfigFrom({ 'state-dir': values['state-dir'] }, env).stateDir;
  const sandbox = values.server || env.FABRIC_CONTROL_PLANE ? undefined : readSandboxState(stateDir);
  const address =
    values.server ??
    env.FABRIC_CONTROL_PLANE ??
    (sandbox && `${sandbox.endpoints.controlPlane.host}:${sandbox.endpoints.controlPlane.port}`);
  if (!address) {
    throw new UsageError(
      `no control plane to talk to: pass --server HOST:PORT or set FABRIC_CONTROL_PLANE, or start the sandbox (npm start; none runs from ${stateDir})`,
    );
  }
  if (!/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address))
    throw new UsageError(`--server: "${address}" must be HOST:PORT`);
  const token = values.token ?? env.FABRIC_TOKEN ?? readSandboxTokens(stateDir)?.admin;
  if (!token)
    throw new UsageError(
      `no token: pass --token or set FABRIC_TOKEN (the sandbox keeps its tokens in ${stateDir}/control-plane/tokens.json)`,
    );
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key']))
    throw new UsageError('--tls-cert and --tls-key go together');
  const tls =
    values['tls-ca'] || values['tls-cert']
      ? {
          ca: read('--tls-ca', values['tls-ca']),
          cert: read('--tls-cert', values['tls-cert']),
          key: read('--tls-key', values['tls-key']),
        }
      : undefined;
  return new ControlPlaneClient({ address, token, tls });
}

function read(flag: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}
