import type { SandboxEndpoints } from '@fabric/sandbox';
import { renderTable } from '../table.js';

export function endpointsTable(endpoints: SandboxEndpoints, health?: Map<string, string>): string {
  const rows = endpoints.regions.map((r) => {
    const cells = [
      r.region,
      r.home ? 'primary' : 'replica',
      r.postgres.url,
      r.kafka.brokers.join(','),
      r.kafka.topic,
      r.redis.url,
    ];
    return health ? [...cells, health.get(r.region) ?? '?'] : cells;
  });
  const headers = ['REGION', 'ROLE', 'POSTGRES', 'KAFKA', 'TOPIC', 'REDIS'];
  return renderTable(health ? [...headers, 'HEALTH'] : headers, rows);
}
