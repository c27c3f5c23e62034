import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import {
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
  Wait,
  type WaitStrategy,
} from 'testcontainers';
import { ComposeHealthCheck } from './compose-health.js';
import type { ServiceDefinition } from './definitions.js';
import { ImageMissingError, ServiceUnhealthyError } from './errors.js';
import { removeStack, STACK_LABEL } from './reaper.js';

export interface StackOptions {
  /** Label value and name prefix: `fabric-test-<stack>-<service>`, so stacks never collide. */
  stack: string;
  /** Where `<region>/logs/<role>.log` go: each container's output, as the sandbox keeps its services'. */
  stateDir: string;
  /** podman's project socket: images are built here, a missing one is an error, not a pull. */
  noPull: boolean;
  log: (line: string) => void;
}

interface Running {
  definition: ServiceDefinition;
  container: StartedTestContainer;
}

/**
 * The compose services as testcontainers containers, on networks named after the file's:
 * every service starts once what it depends on is healthy (or, for a one-shot job, has
 * exited 0), as `depends_on` says. stop() removes every container and network made, also
 * after a failed start.
 */
export class ContainerStack {
  private readonly running: Running[] = [];
  private readonly networks = new Map<string, Dockerode.Network>();
  private readonly logs: WriteStream[] = [];
  private stopping: Promise<void> | undefined;

  private constructor(private readonly opts: StackOptions) {}

  static async start(definitions: ServiceDefinition[], opts: StackOptions): Promise<ContainerStack> {
    const stack = new ContainerStack(opts);
    try {
      await stack.checkImages(definitions);
      await stack.createNetworks(definitions);
      await stack.startServices(definitions);
      return stack;
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }

  /** The running container of a compose service, e.g. `us-east-postgres`. */
  container(service: string): StartedTestContainer {
    const found = this.running.find((r) => r.definition.service === service);
    if (!found) throw new Error(`no container for ${service}`);
    return found.container;
  }

  private async checkImages(definitions: ServiceDefinition[]): Promise<void> {
    if (!this.opts.noPull) return;
    const client = await getContainerRuntimeClient();
    const images = [...new Set(definitions.map((d) => d.image))];
    const missing: string[] = [];
    for (const image of images) if (!(await client.image.exists(ImageName.fromString(image)))) missing.push(image);
    if (missing.length > 0) throw new ImageMissingError(missing);
  }

  private async createNetworks(definitions: ServiceDefinition[]): Promise<void> {
    const client = await getContainerRuntimeClient();
    for (const key of new Set(definitions.flatMap((d) => d.networks))) {
      const network = await client.network.create({
        Name: this.networkName(key),
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [STACK_LABEL]: this.opts.stack },
      });
      this.networks.set(key, network);
    }
  }

  private networkName(key: string): string {
    return `fabric-test-${this.opts.stack}-${key}`;
  }

  private async startServices(definitions: ServiceDefinition[]): Promise<void> {
    const started = new Map<string, Promise<void>>();
    const byName = new Map(definitions.map((d) => [d.service, d]));
    let firstFailure: unknown;
    const startOne = (definition: ServiceDefinition): Promise<void> => {
      let promise = started.get(definition.service);
      if (!promise) {
        promise = (async () => {
          for (const dep of definition.dependsOn) {
            const target = byName.get(dep);
            if (!target) throw new Error(`${definition.service} depends on ${dep}, which the backend does not run`);
            await startOne(target);
          }
          const began = Date.now();
          const container = await this.launch(definition);
          this.running.push({ definition, container });
          this.opts.log(`${definition.service} ${definition.oneShot ? 'done' : 'healthy'} in ${Date.now() - began} ms`);
        })().catch((err: unknown) => {
          firstFailure ??= err;
          throw err;
        });
        started.set(definition.service, promise);
      }
      return promise;
    };
    // allSettled: every start that is under way finishes (and is tracked) before stop() runs.
    await Promise.allSettled(definitions.map(startOne));
    if (firstFailure) throw firstFailure;
  }

  private async launch(definition: ServiceDefinition): Promise<StartedTestContainer> {
    const logFile = path.join(this.opts.stateDir, definition.region, 'logs', `${definition.role}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    this.logs.push(log);
    const wait: WaitStrategy = definition.oneShot
      ? Wait.forOneShotStartup().withStartupTimeout(120_000)
      : definition.healthcheck
        ? new ComposeHealthCheck(definition.service, definition.healthcheck, logFile)
        : Wait.forListeningPorts();
    const [first, ...others] = definition.networks;
    const container = new ServiceContainer(
      definition.image,
      definition.service,
      others.map((key) => this.networks.get(key)!),
    )
      .withName(`fabric-test-${this.opts.stack}-${definition.service}`)
      .withLabels({ [STACK_LABEL]: this.opts.stack, 'dev.fabric.compose-service': definition.service })
      .withEnvironment(definition.environment)
      .withBindMounts(definition.binds)
      .withExposedPorts(...definition.ports)
      .withLogConsumer((stream) => stream.pipe(log, { end: false }))
      .withWaitStrategy(wait);
    if (first) container.withNetworkMode(this.networkName(first));
    if (definition.entrypoint) container.withEntrypoint(definition.entrypoint);
    if (definition.command) container.withCommand(definition.command);
    try {
      return await container.start();
    } catch (err) {
      if (err instanceof ServiceUnhealthyError) throw err;
      throw new ServiceUnhealthyError(definition.service, (err as Error).message, logFile);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    // What a failed or interrupted start left half-made is removed by label below.
    const removed = await removeStack(this.opts.stack);
    for (const log of this.logs) log.end();
    this.opts.log(`removed ${removed.containers.length} containers and ${removed.networks.length} networks`);
  }
}

/**
 * A compose service's container: published on 127.0.0.1 only, as the file publishes, and on
 * every network the service joins, under its service name, before its process starts (a
 * standby's entrypoint reaches the primary at once).
 */
class ServiceContainer extends GenericContainer {
  constructor(
    image: string,
    private readonly alias: string,
    private readonly extraNetworks: Dockerode.Network[],
  ) {
    super(image);
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = this.hostConfig.PortBindings ?? {};
    // podman lists the ports an image exposes among the bindings (unbound), and testcontainers
    // waits for every binding to be bound: those compose leaves alone (Kafka's in-network
    // 9092) get a loopback port the engine picks, which nothing uses.
    const image = await (await getContainerRuntimeClient()).image.inspect(this.imageName);
    for (const port of Object.keys(image.Config.ExposedPorts ?? {})) bindings[port] ??= [{ HostPort: '0' }];
    for (const binding of Object.values(bindings).flat()) binding.HostIp = '127.0.0.1';
    this.hostConfig.PortBindings = bindings;
    // The first network with the alias at creation; testcontainers' own aliases would attach
    // the engine's default network as well.
    if (this.networkMode) {
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.networkMode]: { Aliases: [this.alias] } } };
    }
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(containerId);
    for (const network of this.extraNetworks) await client.container.connectToNetwork(container, network, [this.alias]);
  }
}
