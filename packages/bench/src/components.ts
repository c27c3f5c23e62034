// The per-region components of a sandbox, as named in <state-dir>/<region>/run/<kind>.pid
// and by deploy/chaos/service.sh.
export const COMPONENT_KINDS = ['postgres', 'kafka', 'redis', 'cdc-reader', 'invalidator', 'control-plane'] as const;

export type ComponentKind = (typeof COMPONENT_KINDS)[number];
