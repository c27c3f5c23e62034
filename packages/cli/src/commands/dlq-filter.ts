import { timestampFromDate } from '@fabric/control-plane';
import { parseOffsetArg, parseTimeArg } from '../time-arg.js';
import { UsageError } from '../usage.js';

/** The dead-letter filters `dlq ls` and `dlq replay` share. */
export const DLQ_FILTER_OPTIONS = {
  component: { type: 'string' },
  reason: { type: 'string' },
  table: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const;

export const DLQ_FILTER_HELP = `  --component NAME       Only from this component: cdc-reader or invalidator
  --reason TEXT          Only reasons containing TEXT (any case)
  --table NAME           Only this source table, e.g. public.users
  --since TIME           Failed at or after TIME (ISO time or 15m, 2h, 7d ago)
  --until TIME           Failed before TIME`;

interface FilterValues {
  component?: string;
  reason?: string;
  table?: string;
  since?: string;
  until?: string;
}

export function dlqFilter(values: FilterValues) {
  return { component: values.component ?? '', reasonContains: values.reason ?? '', table: values.table ?? '' };
}

/** The --since/--until range, or undefined when neither is given. */
export function dlqTimeRange(values: FilterValues) {
  if (values.since === undefined && values.until === undefined) return undefined;
  return {
    sinceTime: values.since === undefined ? undefined : timestampFromDate(parseTimeArg('--since', values.since)),
    untilTime: values.until === undefined ? undefined : timestampFromDate(parseTimeArg('--until', values.until)),
  };
}

interface RangeValues extends FilterValues {
  partition?: string;
  'from-offset'?: string;
  'to-offset'?: string;
}

/** The DLQ range `dlq replay` and `dlq resolve` share: by offsets or by failure time, not both. */
export function dlqRange(values: RangeValues) {
  const byOffset =
    values.partition !== undefined || values['from-offset'] !== undefined || values['to-offset'] !== undefined;
  const byTime = values.since !== undefined || values.until !== undefined;
  if (byOffset && byTime)
    throw new UsageError('choose one range: --partition/--from-offset/--to-offset or --since/--until');
  if (byOffset)
    return {
      case: 'offsets' as const,
      value: {
        partition: values.partition === undefined ? undefined : Number(parseOffsetArg('--partition', values.partition)),
        fromOffset: values['from-offset'] === undefined ? 0n : parseOffsetArg('--from-offset', values['from-offset']),
        toOffset: values['to-offset'] === undefined ? undefined : parseOffsetArg('--to-offset', values['to-offset']),
      },
    };
  if (byTime) return { case: 'timeRange' as const, value: dlqTimeRange(values)! };
  return { case: undefined };
}
