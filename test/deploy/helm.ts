import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './compose-file.js';

export const CHART = path.join(ROOT, 'deploy/helm/fabric-region');
export const valuesFile = (region: string) => path.join(ROOT, 'deploy/helm/values', `${region}.yaml`);

/** scripts/ensure-helm.sh fetches helm on first use and prints its path. */
export function ensureHelm(): string {
  return execFileSync('bash', [path.join(ROOT, 'scripts/ensure-helm.sh')], {
    encoding: 'utf8',
    timeout: 180_000,
  }).trim();
}

export interface HelmRun {
  status: number | null;
  stdout: string;
  /** stdout and stderr: lint prints schema errors on stdout, template on stderr. */
  output: string;
}

// Helm's own state stays beside the binary rather than in the user's home.
const HELM_HOME = path.join(ROOT, '.fabric/tools/helm-home');
const HELM_ENV = {
  HELM_CACHE_HOME: `${HELM_HOME}/cache`,
  HELM_CONFIG_HOME: `${HELM_HOME}/config`,
  HELM_DATA_HOME: `${HELM_HOME}/data`,
};

export function helm(binary: string, args: string[]): HelmRun {
  const run = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...HELM_ENV } });
  return { status: run.status, stdout: run.stdout, output: `${run.stdout}\n${run.stderr}` };
}

export interface Manifest {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field in the tests
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** `helm template` for one region, with extra `--set`-style arguments; throws with helm's message. */
export function render(binary: string, region: string, extra: string[] = []): Manifest[] {
  const run = helm(binary, ['template', `fabric-${region}`, CHART, '-f', valuesFile(region), ...extra]);
  if (run.status !== 0) throw new Error(run.output);
  return parseAllDocuments(run.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}

export interface Probe {
  httpGet: { path: string; port: string };
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}

export interface Container {
  name: string;
  args: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }>;
  ports: Array<{ name: string; containerPort: number }>;
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  securityContext: Record<string, unknown>;
  resources: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

export function container(deployment: Manifest): Container {
  return deployment.spec.template.spec.containers[0] as Container;
}

/** The pod spec of a Deployment (or the spec of a Pod). */
// biome-ignore lint/suspicious/noExplicitAny: read field by field in the tests
export function podSpec(m: Manifest): any {
  return m.kind === 'Pod' ? m.spec : m.spec.template.spec;
}
