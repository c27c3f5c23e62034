// Typed errors of the containers backend. Each says what to run or change: whoever reads it
// is looking at a failed test run, not at this code.

export class ContainerBackendError extends Error {
  override readonly name: string = 'ContainerBackendError';
}

/** No engine to run containers on; `reason` is what was tried and why it failed. */
export class NoContainerEngineError extends ContainerBackendError {
  override readonly name = 'NoContainerEngineError';
  constructor(reason: string) {
    super(
      `FABRIC_TEST_BACKEND=containers needs a container engine: ${reason}. On this kind of machine run ` +
        '`bash scripts/containers.sh setup` (as root); with Docker, set DOCKER_HOST or start Docker.',
    );
  }
}

export class ImageMissingError extends ContainerBackendError {
  override readonly name = 'ImageMissingError';
  constructor(images: string[]) {
    super(
      `image${images.length > 1 ? 's' : ''} ${images.join(', ')} not on the engine and nothing may be pulled here: ` +
        'build them with `bash scripts/containers.sh setup`',
    );
  }
}

/** A service did not become healthy (or a one-shot job failed); `logFile` holds what it said. */
export class ServiceUnhealthyError extends ContainerBackendError {
  override readonly name = 'ServiceUnhealthyError';
  constructor(
    readonly service: string,
    reason: string,
    readonly logFile?: string,
  ) {
    super(`${service} did not start: ${reason}${logFile ? ` (see ${logFile})` : ''}`);
  }
}
