import { parseArgs } from 'node:util';
import { InvalidateResponseSchema, toJson } from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { UsageError } from '../usage.js';

export const INVALIDATE_HELP = `Usage: fabric invalidate --region R[,R...] (--key K | --tag T | --pattern P)... [--force] [--json]

Invalidates cache entries by hand in the chosen regions. The control plane publishes one
MANUAL event per key, tag and pattern to each region's invalidation topic, so they are
applied in order with the region's other invalidations, durably, and counted like them.
Patterns are Redis globs the invalidator expands with SCAN (never KEYS); a pattern
without any literal character, such as "*", would empty the region's whole cache and
needs --force. Needs an admin token.

Options:
  --region NAME[,NAME]   Regions to invalidate in (repeatable)              (required)
  --key KEY              Cache key to delete (repeatable)
  --tag TAG              Tag whose member keys to delete (repeatable)
  --pattern GLOB         Keys matching the glob to delete (repeatable)
  --force                Allow patterns that match every key
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string', multiple: true },
  key: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  pattern: { type: 'string', multiple: true },
  force: { type: 'boolean' },
} as const;

export async function invalidate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(INVALIDATE_HELP);
    return 0;
  }
  const regions = (values.region ?? [])
    .flatMap((r) => r.split(','))
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0) throw new UsageError('--region is required: name the regions to invalidate in');
  const keys = values.key ?? [];
  const tags = values.tag ?? [];
  const patterns = values.pattern ?? [];
  if (keys.length + tags.length + patterns.length === 0)
    throw new UsageError('give at least one --key, --tag or --pattern');
  const client = connectControlPlane(values);
  try {
    const response = await client.invalidation.invalidate(
      { regions, keys, tags, patterns, force: values.force ?? false },
      { deadlineMs: 30_000 },
    );
    if (values.json) {
      process.stdout.write(
        JSON.stringify(toJson(InvalidateResponseSchema, response, { alwaysEmitImplicit: true })) + '\n',
      );
    } else {
      for (const r of response.regions)
        process.stdout.write(`${r.region}: ${r.eventIds.length} event(s) published to ${r.topic}\n`);
      process.stdout.write(`request ${response.requestId}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}
