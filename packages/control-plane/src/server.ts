import { readFileSync } from 'node:fs';
import {
  ContinuityService,
  DeadLetterService,
  healthV1,
  InvalidationService,
  LagService,
  reflectionV1,
  reflectionV1alpha,
} from '@fabric/proto';
import { ConfigError } from '@fabric/runtime';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { TokenAuthenticator } from './auth.js';
import type { ControlPlaneConfig, TlsFiles } from './config.js';
import { continuityHandlers } from './continuity-service.js';
import { ScanSlots } from './dead-letter-scans.js';
import { deadLetterHandlers } from './dead-letter-service.js';
import { bindService, type CallHooks } from './grpc-service.js';
import { HealthRegistry, healthHandlers } from './health-service.js';
import { invalidationHandlers } from './invalidation-service.js';
import { LagSampler } from './lag-sampler.js';
import { lagHandlers } from './lag-service.js';
import { assertListenSecure } from './listen-guard.js';
import { ControlPlaneMetrics } from './metrics.js';
import { DescriptorIndex, reflectionHandlers } from './reflection-service.js';
import { RegionConnections } from './region-connections.js';
import { RegionDirectory } from './regions.js';
import { RpcError } from './rpc-error.js';
import { grpcServerOptions } from './server-limits.js';

const SERVED = [
  LagService,
  DeadLetterService,
  InvalidationService,
  ContinuityService,
  healthV1.Health,
  reflectionV1.ServerReflection,
  reflectionV1alpha.ServerReflection,
];

/** The running gRPC server with every service, and what it holds open. */
export class ControlPlane {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly health: HealthRegistry,
    private readonly shutdown: AbortController,
    private readonly connections: RegionConnections,
    private readonly logger: Logger,
  ) {}

  static async start(
    config: ControlPlaneConfig,
    logger: Logger,
    metrics = new ControlPlaneMetrics(),
  ): Promise<ControlPlane> {
    assertListenSecure(config);
    const credentials = serverCredentials(config.tls);
    const regions = new RegionDirectory(config.regions);
    const connections = new RegionConnections(
      config.regions,
      config.probeTimeoutMs,
      logger,
      config.limits.maxConcurrentScans + 1,
    );
    const sampler = new LagSampler(config.regions, connections, config.probeTimeoutMs, metrics, logger, config.health);
    const auth = new TokenAuthenticator(config.tokens);
    const shutdown = new AbortController();
    const health = new HealthRegistry(SERVED.map((s) => s.typeName));
    const reflection = reflectionHandlers(new DescriptorIndex(SERVED));
    const hooks: CallHooks = {
      authorize: (path, metadata) => auth.authorize(path, metadata),
      shutdown: shutdown.signal,
      logger,
      onCallEnd: (path, code, seconds) => {
        metrics.rpcs.inc({ method: path, code: status[code] });
        metrics.rpcSeconds.observe({ method: path }, seconds);
      },
    };
    const deps = {
      regions,
      connections,
      metrics,
      logger,
      scanSlots: new ScanSlots(config.limits.maxConcurrentScans),
      maxSendMessageBytes: config.limits.maxSendMessageBytes,
    };
    const server = new Server(grpcServerOptions(config.limits));
    for (const bound of [
      bindService(LagService, lagHandlers(regions, sampler), hooks),
      bindService(DeadLetterService, deadLetterHandlers(deps), hooks),
      bindService(InvalidationService, invalidationHandlers(deps), hooks),
      bindService(ContinuityService, continuityHandlers(deps), hooks),
      bindService(healthV1.Health, healthHandlers(health), hooks),
      bindService(reflectionV1.ServerReflection, reflection.v1, hooks),
      bindService(reflectionV1alpha.ServerReflection, reflection.v1alpha, hooks),
    ]) {
      server.addService(bound.definition, bound.implementation);
    }
    const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${config.listen.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
      );
    } catch (err) {
      await connections.close();
      throw new ConfigError('listen', `cannot listen on ${host}:${config.listen.port}: ${(err as Error).message}`);
    }
    return new ControlPlane(server, port, health, shutdown, connections, logger);
  }

  get serving(): boolean {
    return this.health.get('') === healthV1.HealthCheckResponse_ServingStatus.SERVING;
  }

  /** NOT_SERVING first, then end streams, then let unary calls finish for up to `graceMs`. */
  stop(graceMs = 5_000): Promise<void> {
    this.stopping ??= (async () => {
      this.health.setAll(healthV1.HealthCheckResponse_ServingStatus.NOT_SERVING);
      this.shutdown.abort(new RpcError(status.UNAVAILABLE, 'the control plane is shutting down; reconnect'));
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          this.logger.warn({ graceMs }, 'calls still running at shutdown; cancelling them');
          this.server.forceShutdown();
          resolve();
        }, graceMs);
        this.server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await this.connections.close();
    })();
    return this.stopping;
  }
}

function serverCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const read = (field: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`tls.${field}`, `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const clientCa = tls.clientCa ? read('clientCa', tls.clientCa) : null;
  // With a client CA, a client without a certificate signed by it cannot even connect.
  return ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: read('cert', tls.cert), private_key: read('key', tls.key) }],
    clientCa !== null,
  );
}
