import {
  type DeadLetterFilter,
  type ListDeadLettersRequest,
  type ReplayDeadLettersRequest,
  type ResolveDeadLettersRequest,
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
/**
 * Records one listing page reads at most. A filter that matches little would otherwise
 * read a whole large DLQ in one call; past this the page ends early, with a token that
 * goes on from where the scan stopped.
 */
export const MAX_SCANNED_PER_PAGE = 20_000;
export const MAX_RESOLUTION_NOTE = 500;

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

/** The dead letters of one region a replay or a resolution goes through. */
export interface SettlePlan {
  region: RegionConfig;
  /** Undefined: every partition. */
  partition: number | undefined;
  fromOffset: bigint;
  /** Inclusive; undefined: up to the end when the run starts. */
  toOffset: bigint | undefined;
  criteria: DeadLetterCriteria;
  dryRun: boolean;
}

export interface ReplayPlan extends SettlePlan {
  force: boolean;
}

export interface ResolvePlan extends SettlePlan {
  note: string;
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
  return { ...planSettle(req, regions, 'replay'), force: req.force };
}

export function planResolve(req: ResolveDeadLettersRequest, regions: RegionDirectory): ResolvePlan {
  const plan = planSettle(req, regions, 'resolve');
  const note = req.note.trim();
  if (note === '') throw RpcError.invalidArgument('note', 'say why these dead letters need no replay; it is recorded');
  if (note.length > MAX_RESOLUTION_NOTE)
    throw RpcError.invalidArgument('note', `at most ${MAX_RESOLUTION_NOTE} characters, got ${note.length}`);
  return { ...plan, note };
}

function planSettle(
  req: Pick<ReplayDeadLettersRequest, 'region' | 'range' | 'filter' | 'dryRun'>,
  regions: RegionDirectory,
  verb: string,
): SettlePlan {
  if (req.region === '') throw RpcError.invalidArgument('region', `name the region whose dead letters to ${verb}`);
  const region = regions.get('region', req.region);
  const plan: SettlePlan = {
    region,
    partition: undefined,
    fromOffset: 0n,
    toOffset: undefined,
    criteria: criteria(req.filter, req.range.case === 'timeRange' ? req.range.value : undefined, 'time_range'),
    dryRun: req.dryRun,
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

/** The partition ranges a replay or resolution reads, clipped to what the DLQ holds when it starts. */
export function replayRanges(plan: SettlePlan, dlq: DeadLetterOffsets[]): PartitionRange[] {
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
