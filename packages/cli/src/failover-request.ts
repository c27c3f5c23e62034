import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FailoverReport, FailoverStep } from '@fabric/sandbox';

/**
 * How `fabric failover` asks the running `fabric up` to move the home region: the
 * sandbox's services and workers belong to that process, so it does the work. The
 * command writes a request and sends SIGUSR2; `up` writes its progress to a file per
 * request, which the command follows. Files, not a socket: they outlive either side and
 * say afterwards what happened.
 */
export interface FailoverRequest {
  id: string;
  to: string;
  requestedAt: string;
}

export interface FailoverProgress {
  id: string;
  to: string;
  state: 'running' | 'done' | 'failed';
  steps: FailoverStep[];
  report?: FailoverReport;
  error?: string;
  updatedAt: string;
}

export const FAILOVER_SIGNAL = 'SIGUSR2';

function dir(stateDir: string): string {
  return path.join(stateDir, 'failover');
}

function atomicWrite(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function writeFailoverRequest(stateDir: string, to: string): FailoverRequest {
  const request: FailoverRequest = { id: randomUUID(), to, requestedAt: new Date().toISOString() };
  atomicWrite(path.join(dir(stateDir), 'request.json'), request);
  return request;
}

export function readFailoverRequest(stateDir: string): FailoverRequest | undefined {
  const file = path.join(dir(stateDir), 'request.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FailoverRequest;
}

export function writeFailoverProgress(stateDir: string, progress: Omit<FailoverProgress, 'updatedAt'>): void {
  atomicWrite(path.join(dir(stateDir), `${progress.id}.json`), { ...progress, updatedAt: new Date().toISOString() });
}

export function readFailoverProgress(stateDir: string, id: string): FailoverProgress | undefined {
  const file = path.join(dir(stateDir), `${id}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as FailoverProgress;
}
