import { ConfigError } from './config-error.js';

/** A flag (or its environment fallback) that must be given; trimmed. */
export function requiredFlag(path: string, value: string | undefined): string {
  if (!value || value.trim() === '') throw new ConfigError(path, 'is required (see --help)');
  return value.trim();
}

/** A flag that must be a whole number in [min, max]; the error names the flag and the value. */
export function integerFlag(path: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(path, `must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** An on|off flag; the error names the flag and the value. */
export function onOffFlag(path: string, value: string): boolean {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new ConfigError(path, `must be on or off, got "${value}"`);
}
