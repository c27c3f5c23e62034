import type { DescMethod, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { ContinuityService, DeadLetterService, healthV1, InvalidationService, LagService } from '@fabric/proto';
import {
  Client,
  type ClientReadableStream,
  credentials,
  type CallOptions as GrpcCallOptions,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { methodDefinition } from './grpc-service.js';

export interface ClientOptions {
  /** host:port of the control plane. */
  address: string;
  /** Sent as "authorization: Bearer <token>" on every call. */
  token?: string;
  /** TLS when set; cert and key too for mTLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export interface CallOptions {
  /** Milliseconds from now. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** A failed call: the gRPC status and the server's message (e.g. "regions[1]: unknown region"). */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(`${status[code] ?? code}: ${details}`);
  }
}

export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'unary'
    ? (request: MessageInitShape<S[K]['input']>, opts?: CallOptions) => Promise<MessageShape<S[K]['output']>>
    : S[K]['methodKind'] extends 'server_streaming'
      ? (request: MessageInitShape<S[K]['input']>, opts?: CallOptions) => AsyncIterable<MessageShape<S[K]['output']>>
      : never;
};

export type ClientOf<T> = T extends GenService<infer S> ? ServiceClient<S> : never;

/** Typed calls to every control-plane service over one channel. */
export class ControlPlaneClient {
  readonly lag: ClientOf<typeof LagService>;
  readonly deadLetters: ClientOf<typeof DeadLetterService>;
  readonly invalidation: ClientOf<typeof InvalidationService>;
  readonly continuity: ClientOf<typeof ContinuityService>;
  readonly health: ClientOf<typeof healthV1.Health>;
  private readonly channel: Client;

  constructor(private readonly opts: ClientOptions) {
    // grpc-js would refuse such a token on the first call with an error that quotes it.
    if (opts.token !== undefined && !/^[!-~]+$/.test(opts.token))
      throw new Error('token: holds whitespace or characters outside printable ASCII; check --token / FABRIC_TOKEN');
    const creds = opts.tls
      ? credentials.createSsl(opts.tls.ca ?? null, opts.tls.key ?? null, opts.tls.cert ?? null)
      : credentials.createInsecure();
    this.channel = new Client(opts.address, creds);
    this.lag = this.service(LagService);
    this.deadLetters = this.service(DeadLetterService);
    this.invalidation = this.service(InvalidationService);
    this.continuity = this.service(ContinuityService);
    this.health = this.service(healthV1.Health);
  }

  close(): void {
    this.channel.close();
  }

  private service<S extends GenServiceMethods>(service: GenService<S>): ServiceClient<S> {
    const client: Record<string, unknown> = {};
    for (const [localName, method] of Object.entries(service.method) as Array<[string, DescMethod]>) {
      const def = methodDefinition(`/${service.typeName}/${method.name}`, method);
      if (method.methodKind === 'unary') {
        client[localName] = (request: unknown, opts: CallOptions = {}) =>
          new Promise((resolve, reject) => {
            const call = this.channel.makeUnaryRequest(
              def.path,
              def.requestSerialize,
              def.responseDeserialize,
              request,
              this.metadata(),
              this.callOptions(opts),
              (err, res) => (err ? reject(toControlPlaneError(err)) : resolve(res)),
            );
            opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
          });
      } else if (method.methodKind === 'server_streaming') {
        client[localName] = (request: unknown, opts: CallOptions = {}) => {
          const call = this.channel.makeServerStreamRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            request,
            this.metadata(),
            this.callOptions(opts),
          );
          opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
          return messages(call);
        };
      }
    }
    return client as ServiceClient<S>;
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.opts.token) metadata.set('authorization', `Bearer ${this.opts.token}`);
    return metadata;
  }

  private callOptions(opts: CallOptions): GrpcCallOptions {
    return opts.deadlineMs === undefined ? {} : { deadline: Date.now() + opts.deadlineMs };
  }
}

/** The stream's messages; leaving the loop early cancels the call. */
async function* messages<T>(call: ClientReadableStream<T>): AsyncGenerator<T> {
  try {
    for await (const message of call) yield message as T;
  } catch (err) {
    throw toControlPlaneError(err);
  } finally {
    call.cancel();
  }
}

function toControlPlaneError(err: unknown): unknown {
  const e = err as Partial<ServiceError>;
  return typeof e.code === 'number' ? new ControlPlaneError(e.code, e.details ?? e.message ?? '') : err;
}
