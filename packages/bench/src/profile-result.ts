// What the profile phase returns: per profiled worker, its top self-time functions.
import type { SelfTime } from './cpuprofile.js';

export const PROFILED_KINDS = ['reader', 'invalidator'] as const;
export type ProfiledKind = (typeof PROFILED_KINDS)[number];

export type WorkerProfile = { file: string; top: SelfTime[] } | { error: string };

export type ProfileResult = {
  /** changes/s the writer targeted */
  rate: number;
  achievedRate: number;
  /** where the .cpuprofile files are */
  dir: string;
} & Record<ProfiledKind, WorkerProfile>;
