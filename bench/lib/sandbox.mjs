// Starts the fabric with the real CLI (`fabric up --json`) and stops it.
import { spawn, execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const CLI = path.resolve('packages/cli/dist/bin.js');
const run = promisify(execFile);

export function startFabric({ regions, portBase, stateDir }) {
  const args = [CLI, 'up', '--json', '--port-base', String(portBase), '--state-dir', stateDir, '--regions', regions];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const ready = JSON.parse(line);
      resolve({
        ...ready,
        pid: child.pid,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          return exited;
        },
        async service(action, region, component) {
          const { stdout } = await run(path.resolve('deploy/chaos/service.sh'), [action, region, component, '--state-dir', stateDir]);
          return stdout.trim();
        },
      });
    });
    void exited.then((code) => reject(new Error(`fabric up exited with ${code} before ready: ${err}`)));
  });
}

/** deploy/chaos/service.sh bound to a state dir (for an attached sandbox). */
export function serviceFor(stateDir) {
  return async (action, region, component) => {
    const { stdout } = await run(path.resolve('deploy/chaos/service.sh'), [action, region, component, '--state-dir', stateDir]);
    return stdout.trim();
  };
}
