import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Everything the control plane exports on /metrics. Region gauges mirror the latest lag
 * snapshot; a value the snapshot does not know is removed rather than set to 0, so a
 * dashboard shows a gap, not a false "fresh".
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly rpcs: Counter<'method' | 'code'>;
  readonly rpcSeconds: Histogram<'method'>;
  readonly invalidationEvents: Counter<'region' | 'kind'>;
  readonly replays: Counter<'region' | 'outcome'>;
  readonly resolutions: Counter<'region' | 'outcome'>;
  readonly resyncsRequested: Counter<'region'>;
  readonly probeFailures: Counter<'region' | 'component'>;
  readonly freshness: Gauge<'region'>;
  readonly deadLetters: Gauge<'region'>;
  readonly kafkaLag: Gauge<'region'>;
  readonly regionHealthy: Gauge<'region'>;

  constructor() {
    this.registry.setDefaultLabels({ component: 'control-plane' });
    collectDefaultMetrics({ register: this.registry, prefix: 'fabric_control_plane_process_' });
    const registers = [this.registry];
    this.rpcs = new Counter({
      name: 'fabric_control_plane_rpcs_total',
      help: 'RPCs handled, by method and gRPC status code',
      labelNames: ['method', 'code'],
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: 'fabric_control_plane_rpc_seconds',
      help: 'RPC handling time (whole stream for streaming RPCs)',
      labelNames: ['method'],
      buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60],
      registers,
    });
    this.invalidationEvents = new Counter({
      name: 'fabric_control_plane_invalidation_events_total',
      help: 'Manual invalidation events published, by region and target kind',
      labelNames: ['region', 'kind'],
      registers,
    });
    this.replays = new Counter({
      name: 'fabric_control_plane_replayed_dead_letters_total',
      help: 'Dead letters handled by replays, by outcome',
      labelNames: ['region', 'outcome'],
      registers,
    });
    this.resolutions = new Counter({
      name: 'fabric_control_plane_resolved_dead_letters_total',
      help: 'Dead letters handled by resolutions (closed by an operator without a replay), by outcome',
      labelNames: ['region', 'outcome'],
      registers,
    });
    this.resyncsRequested = new Counter({
      name: 'fabric_control_plane_resyncs_requested_total',
      help: 'Operator resyncs published (every partition got its copy), by region',
      labelNames: ['region'],
      registers,
    });
    this.probeFailures = new Counter({
      name: 'fabric_control_plane_probe_failures_total',
      help: 'Probes that got no healthy answer, by component',
      labelNames: ['region', 'component'],
      registers,
    });
    this.freshness = new Gauge({
      name: 'fabric_region_freshness_seconds',
      help: 'Now minus the primary commit time of the newest invalidation applied in the region',
      labelNames: ['region'],
      registers,
    });
    this.deadLetters = new Gauge({
      name: 'fabric_region_dead_letters',
      help: 'Dead letters not yet replayed',
      labelNames: ['region'],
      registers,
    });
    this.kafkaLag = new Gauge({
      name: 'fabric_region_kafka_lag',
      help: 'Events in the region topic not yet committed by the invalidator group',
      labelNames: ['region'],
      registers,
    });
    this.regionHealthy = new Gauge({
      name: 'fabric_region_healthy',
      help: '1 when the region is healthy: every component answered healthy and no health threshold is crossed',
      labelNames: ['region'],
      registers,
    });
  }
}

/** Sets a region gauge, or removes it when the value is unknown. */
export function setOrForget(gauge: Gauge<'region'>, region: string, value: number | bigint | undefined): void {
  if (value === undefined) gauge.remove(region);
  else gauge.set({ region }, Number(value));
}
