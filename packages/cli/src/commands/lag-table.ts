import {
  ComponentStatus,
  type GetLagResponse,
  type RegionLag,
  RegionStatus,
  timestampDate,
} from '@fabric/control-plane';
import { renderTable } from '../table.js';
import { continuityCell } from './continuity-cell.js';

const UNKNOWN = '?';

/** One row per region; "?" marks what no component answered, never a made-up 0. */
export function lagTable(response: Pick<GetLagResponse, 'regions'>, now: Date): string {
  const rows = response.regions.map((r) => [
    r.region,
    regionStatus(r.status),
    r.home ? 'primary' : `${bytes(r.replicationLagBytes)} / ${seconds(r.replicationLagSeconds)}`,
    bytes(r.cdcLagBytes),
    r.kafkaLagTotal === undefined ? UNKNOWN : String(r.kafkaLagTotal),
    seconds(r.freshnessSeconds),
    `${millis(r.latencyP50Ms)} / ${millis(r.latencyP99Ms)}`,
    r.deadLetters === undefined ? UNKNOWN : String(r.deadLetters),
    continuityCell(r.continuity),
    problems(r, now),
  ]);
  const table = renderTable(
    [
      'REGION',
      'STATUS',
      'REPLICATION',
      'CDC LAG',
      'KAFKA LAG',
      'FRESHNESS',
      'P50 / P99',
      'DLQ',
      'CONTINUITY',
      'PROBLEMS',
    ],
    rows,
  );
  return `${table}\n(${UNKNOWN} = unknown: the component that knows did not answer)`;
}

function regionStatus(s: RegionStatus): string {
  return s === RegionStatus.HEALTHY
    ? 'healthy'
    : s === RegionStatus.DEGRADED
      ? 'degraded'
      : s === RegionStatus.UNHEALTHY
        ? 'UNHEALTHY'
        : s === RegionStatus.UNREACHABLE
          ? 'UNREACHABLE'
          : UNKNOWN;
}

/**
 * The control plane's reasons, with how long ago an unreachable component was last seen.
 * The continuity column already tells a running resync, with more than its component says.
 */
function problems(r: RegionLag, now: Date): string {
  // Hand-built answers (and tests) may leave the repeated field out.
  const reasons: readonly string[] = r.reasons ?? [];
  if (reasons.length > 0) {
    const seen = new Map(
      r.components
        .filter((c) => c.status === ComponentStatus.UNREACHABLE)
        .map((c) => [`${c.component} unreachable`, lastSeen(c.lastSeenTime, now)]),
    );
    return (
      reasons
        .filter((reason) => !reason.startsWith('continuity '))
        .map((reason) => {
          const unreachable = [...seen.keys()].find((k) => reason.startsWith(k));
          return unreachable ? `${unreachable} (${seen.get(unreachable)})` : reason;
        })
        .join('; ') || '-'
    );
  }
  // A control plane from before reasons: what its components say.
  const list = r.components
    .filter((c) => c.status !== ComponentStatus.HEALTHY && c.component !== 'continuity')
    .map((c) => {
      const what = c.status === ComponentStatus.UNREACHABLE ? 'unreachable' : 'unhealthy';
      const seen = lastSeen(c.lastSeenTime, now);
      return c.status === ComponentStatus.UNREACHABLE
        ? `${c.component} ${what} (${seen})`
        : `${c.component} ${what}: ${c.detail}`;
    });
  return list.join('; ') || '-';
}

function lastSeen(at: RegionLag['components'][number]['lastSeenTime'], now: Date): string {
  return at ? `seen ${seconds((now.getTime() - timestampDate(at).getTime()) / 1000)} ago` : 'never seen';
}

export function bytes(n: bigint | undefined): string {
  if (n === undefined) return UNKNOWN;
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 ** 2) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 ** 2).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(1)} GiB`;
}

export function seconds(s: number | undefined): string {
  if (s === undefined) return UNKNOWN;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m`;
}

function millis(ms: number | undefined): string {
  return ms === undefined ? UNKNOWN : `${Math.round(ms)} ms`;
}
