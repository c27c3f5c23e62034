// Paths inside the repository (the workers' dist files, deploy/ scripts), resolved from
// this file's location (packages/bench/{src,dist}/) rather than the working directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const repoPath = (...parts: string[]): string => path.join(REPO_ROOT, ...parts);
