import type { RegionConfig } from './config.js';
import { RpcError } from './rpc-error.js';

/** The configured regions, looked up the way requests name them. */
export class RegionDirectory {
  private readonly byName: Map<string, RegionConfig>;

  constructor(readonly all: readonly RegionConfig[]) {
    this.byName = new Map(all.map((r) => [r.name, r]));
  }

  /** NOT_FOUND, naming the request field, for a region the control plane does not know. */
  get(field: string, name: string): RegionConfig {
    const region = this.byName.get(name);
    if (!region)
      throw RpcError.notFound(
        field,
        `unknown region ${JSON.stringify(name)} (known: ${this.all.map((r) => r.name).join(', ')})`,
      );
    return region;
  }

  /** An empty name selects every region. */
  select(field: string, name: string): RegionConfig[] {
    return name === '' ? [...this.all] : [this.get(field, name)];
  }
}
