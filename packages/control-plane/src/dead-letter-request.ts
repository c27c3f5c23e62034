import {
  type DeadLetterFilter,
  type ListDeadLettersRequest,
  type ReplayDeadLettersRequest,
  type TimeRange,
  timestampDate,
} from '@fabric/proto';
import type { RegionConfig } from './config.js';
import type { DeadLetterCriteria } from './dead-letter-view.js';
import type { RegionDirectory } from './regions.js';
import type { DeadLetterOffsets } from './replay-ledger.js';
import { RpcError } from './rpc-error.js';
import type { PartitionRange } from './topic-scan.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Where the next page starts: regions and partitions are listed in order, so this is enough. */
export interface PageCursor {
  /** The request's region field, so a token cannot be reused for another listing. */
  selection: string;
  region: string;
  partition: number;
  offset: bigint;
}

export interface ListingPlan {
  regions: RegionConfig[];
  pageSize: number;
  cursor: PageCursor | undefined;
  criteria: DeadLetterCriteria;
  pendingOnly: boolean;
}

export interface ReplayPlan {
  region: RegionConfig;
  /** Undefined: every partition. */
  partition: number | undefined;
  fromOffset: bigint;
  /** Inclusive; undefined: up to the end when the replay starts. */
  toOffset: bigint | undefined;
  criteria: DeadLetterCriteria;
  dryRun: boolean;
  force: boolean;
}

export function planListing(req: ListDeadLettersRequest, regions: RegionDirectory): ListingPlan {
  const selected = regions.select('region', req.region);
  if (req.pageSize > MAX_PAGE_SIZE)
    throw RpcError.invalidArgument('page_size', `at most ${MAX_PAGE_SIZE}, got ${req.pageSize}`);
  const cursor = req.pageToken === '' ? undefined : decodePageToken(req.pageToken);
  if (cursor && (cursor.selection !== req.region || !selected.some((r) => r.name === cursor.region))) {
    throw RpcError.invalidArgument('page_token', 'belongs to a listing of other regions; start again without a token');
  }
  return {
    regions: selected,
    pageSize: req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize,
    cursor,
    criteria: criteria(req.filter, req.timeRange, 'time_range'),
    pendingOnly: req.pendingOnly,
  };
}

export function planReplay(req: ReplayDeadLettersRequest, regions: RegionDirectory): ReplayPlan {
  if (req.region === '') throw RpcError.invalidArgument('region', 'name the region whose dead letters to replay');
  const region = regions.get('region', req.region);
  const plan: ReplayPlan = {
    region,
    partition: undefined,
    fromOffset: 0n,
    toOffset: undefined,
    criteria: criteria(req.filter, req.range.case === 'timeRange' ? req.range.value : undefined, 'time_range'),
    dryRun: req.dryRun,
    force: req.force,
  };
  if (req.range.case === 'offsets') {
    const o = req.range.value;
    if (o.partition !== undefined && o.partition < 0)
      throw RpcError.invalidArgument('offsets.partition', `must not be negative, got ${o.partition}`);
    if (o.fromOffset < 0n)
      throw RpcError.invalidArgument('offsets.from_offset', `must not be negative, got ${o.fromOffset}`);
    if (o.toOffset !== undefined && o.toOffset < o.fromOffset) {
      throw RpcError.invalidArgument('offsets.to_offset', `${o.toOffset} is before from_offset ${o.fromOffset}`);
    }
    Object.assign(plan, { partition: o.partition, fromOffset: o.fromOffset, toOffset: o.toOffset });
  }
  return plan;
}

/** The partition ranges a replay reads, clipped to what the DLQ holds when it starts. */
export function replayRanges(plan: ReplayPlan, dlq: DeadLetterOffsets[]): PartitionRange[] {
  if (plan.partition !== undefined && !dlq.some((p) => p.partition === plan.partition)) {
    throw RpcError.invalidArgument(
      'offsets.partition',
      `${plan.region.deadLetterTopic} has no partition ${plan.partition} (it has ${dlq.length})`,
    );
  }
  return dlq
    .filter((p) => plan.partition === undefined || p.partition === plan.partition)
    .map((p) => {
      // biome-ignore lint/complexity/useMathMinMax: offsets are bigints, which Math.max does not take
      const from = plan.fromOffset > p.start ? plan.fromOffset : p.start;
      const end = plan.toOffset === undefined ? p.end : plan.toOffset + 1n;
      const to = end < p.end ? end : p.end;
      return { topic: plan.region.deadLetterTopic, partition: p.partition, from, to: to > from ? to : from };
    });
}

function criteria(filter: DeadLetterFilter | undefined, range: TimeRange | undefined, at: string): DeadLetterCriteria {
  const since = range?.sinceTime ? timestampDate(range.sinceTime) : undefined;
  const until = range?.untilTime ? timestampDate(range.untilTime) : undefined;
  if (since && until && since >= until) throw RpcError.invalidArgument(`${at}.until_time`, 'must be after since_time');
  return {
    component: filter?.component ?? '',
    reasonContains: filter?.reasonContains ?? '',
    table: filter?.table ?? '',
    since,
    until,
  };
}

export function encodePageToken(c: PageCursor): string {
  return Buffer.from(JSON.stringify({ s: c.selection, r: c.region, p: c.partition, o: String(c.offset) })).toString(
    'base64url',
  );
}

export function decodePageToken(token: string): PageCursor {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      s: unknown;
      r: unknown;
      p: unknown;
      o: unknown;
    };
    if (
      typeof t.s === 'string' &&
      typeof t.r === 'string' &&
      Number.isInteger(t.p) &&
      typeof t.o === 'string' &&
      /^\d+$/.test(t.o)
    ) {
      return { selection: t.s, region: t.r, partition: t.p as number, offset: BigInt(t.o) };
    }
  } catch {
    // falls through to the error below
  }
  throw RpcError.invalidArgument('page_token', 'not a token this server handed out');
}
