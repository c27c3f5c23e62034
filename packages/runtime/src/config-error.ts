/**
 * Bad configuration, found at start-up. `path` names the field (`--rules`,
 * `tables["public.users"].keys[1]`), so the operator knows what to fix without a stack.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
