import { timestampFromDate } from '@fabric/control-plane';
import { parseTimeArg } from '../time-arg.js';

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
