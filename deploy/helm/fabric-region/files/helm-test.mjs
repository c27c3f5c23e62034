// `helm test`: asks each component of the release whether it can do its job, through the
// Services the control plane and Prometheus use, and the control plane's gRPC health
// service where it runs. Prints every answer and exits non-zero if any is not healthy.
// Runs from the fabric image (the chart mounts it under /app, so the fabric's own packages
// resolve).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ControlPlaneClient, ServingStatus } from '@fabric/control-plane';
import { ConfigError, onOffFlag, runMain } from '@fabric/runtime';

const HELP = `helm-test: checks a release's health.

  --healthz NAME=URL    a component's /healthz; 200 is healthy (repeatable)
  --grpc HOST:PORT      the control plane's gRPC port: grpc.health.v1 Check must say SERVING
  --grpc-tls on|off     TLS to it (default off)
  --grpc-ca FILE        CA bundle to verify it (default: system CAs; ignored if absent)
  --timeout-ms N        per check (default 5000)
`;

async function checkHealthz(name, url, timeoutMs) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).trim();
    return { name, ok: res.status === 200, answer: `${res.status} ${body}` };
  } catch (err) {
    return { name, ok: false, answer: `no answer from ${url}: ${err.cause?.message ?? err.message}` };
  }
}

async function checkGrpc(address, tls, caFile, timeoutMs) {
  const ca = caFile && existsSync(caFile) ? readFileSync(caFile) : undefined;
  const client = new ControlPlaneClient({ address, ...(tls ? { tls: ca ? { ca } : {} } : {}) });
  try {
    const res = await client.health.check({ service: '' }, { deadlineMs: timeoutMs });
    return { name: 'control-plane grpc', ok: res.status === ServingStatus.SERVING, answer: ServingStatus[res.status] };
  } catch (err) {
    return { name: 'control-plane grpc', ok: false, answer: `${address}: ${err.message}` };
  } finally {
    client.close();
  }
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      help: { type: 'boolean' },
      healthz: { type: 'string', multiple: true },
      grpc: { type: 'string' },
      'grpc-tls': { type: 'string' },
      'grpc-ca': { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeoutMs = Number(values['timeout-ms'] ?? 5000);
  const healthz = (values.healthz ?? []).map((spec) => {
    const at = spec.indexOf('=');
    if (at < 1) throw new ConfigError('--healthz', `expects NAME=URL, got "${spec}"`);
    return [spec.slice(0, at), spec.slice(at + 1)];
  });
  if (healthz.length === 0 && !values.grpc) throw new ConfigError('--healthz', 'give at least one check (see --help)');
  const checks = healthz.map(([name, url]) => checkHealthz(name, url, timeoutMs));
  if (values.grpc)
    checks.push(
      checkGrpc(values.grpc, onOffFlag('--grpc-tls', values['grpc-tls'] ?? 'off'), values['grpc-ca'], timeoutMs),
    );
  const results = await Promise.all(checks);
  for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.answer}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

void runMain('helm-test', main);
