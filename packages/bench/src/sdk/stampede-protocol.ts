// What the stampede's parent (stampede.ts) and its workers (stampede-worker.ts) say to each
// other; apart from the worker so that importing it runs no worker.
import type { ContenderName } from './read-caches.js';

export interface StampedeWorkerConfig {
  contender: ContenderName;
  redisUrl: string;
  region: string;
  postgresUrl: string;
  concurrency: number;
  ttlSeconds: number;
  /** how long one database load takes (pg_sleep), so every request arrives during it */
  loadMs: number;
}

export type ToWorker = { type: 'trial'; key: string; id: number; counter: string } | { type: 'exit' };
export type FromWorker = { type: 'ready' } | { type: 'done'; errors: number; firstError?: string };

export const loadCounterKey = (key: string): string => `bench:sdk:loads:${key}`;
