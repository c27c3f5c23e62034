#!/usr/bin/env node
import { createLogger, onShutdownSignal, routeProcessWarnings, runMain, startMetricsServer } from '@fabric/runtime';
import { CONTROL_PLANE_HELP, loadControlPlaneConfig, parseControlPlaneArgs } from './config.js';
import { ControlPlaneMetrics } from './metrics.js';
import { ControlPlane } from './server.js';

async function main(): Promise<number> {
  const args = parseControlPlaneArgs(process.argv.slice(2));
  if (!args) {
    process.stdout.write(CONTROL_PLANE_HELP);
    return 0;
  }
  const config = loadControlPlaneConfig(args.configPath);
  const logger = createLogger('control-plane');
  routeProcessWarnings(logger);
  const signalled = onShutdownSignal(logger);
  const metrics = new ControlPlaneMetrics();
  const controlPlane = await ControlPlane.start(config, logger, metrics);
  const metricsServer = await startMetricsServer(metrics.registry, {
    host: config.metrics.host,
    port: config.metrics.port,
    health: () => ({ ok: controlPlane.serving }),
  });
  logger.info(
    {
      listen: `${config.listen.host}:${controlPlane.port}`,
      metricsPort: metricsServer.port,
      tls: config.tls ? (config.tls.clientCa ? 'mtls' : 'tls') : 'off',
      regions: config.regions.map((r) => r.name),
      tokens: config.tokens.map((t) => t.name),
    },
    'control plane started',
  );
  logger.info({ signal: await signalled }, 'stopping');
  await controlPlane.stop();
  await metricsServer.close();
  logger.info('stopped');
  return 0;
}

void runMain('fabric-control-plane', main);
