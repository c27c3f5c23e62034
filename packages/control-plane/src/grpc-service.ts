import { once } from 'node:events';
import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  type Metadata,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Principal } from './auth.js';
import { RpcError } from './rpc-error.js';

export interface CallContext {
  path: string;
  /** The authenticated caller; undefined on open services (health). */
  principal: Principal | undefined;
  metadata: Metadata;
  /** Aborts when the client cancels, the deadline passes or the server shuts down. */
  signal: AbortSignal;
}

type Send<M extends DescMessage> = (message: MessageInitShape<M>) => Promise<void>;
type Method = Pick<DescMethod, 'input' | 'output' | 'methodKind'>;

/** Handlers return plain init objects; the adapter creates and serializes the messages. */
export type ServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]['methodKind'] extends 'unary'
    ? (request: MessageShape<S[K]['input']>, ctx: CallContext) => Promise<MessageInitShape<S[K]['output']>>
    : S[K]['methodKind'] extends 'server_streaming'
      ? (request: MessageShape<S[K]['input']>, ctx: CallContext, send: Send<S[K]['output']>) => Promise<void>
      : S[K]['methodKind'] extends 'bidi_streaming'
        ? (
            requests: AsyncIterable<MessageShape<S[K]['input']>>,
            ctx: CallContext,
            send: Send<S[K]['output']>,
          ) => Promise<void>
        : never;
};

/** The handlers a generated service descriptor needs: `ImplOf<typeof LagService>`. */
export type ImplOf<T> = T extends GenService<infer S> ? ServiceImpl<S> : never;

export interface CallHooks {
  /** Who calls; throws an RpcError (UNAUTHENTICATED, PERMISSION_DENIED) to refuse. */
  authorize(path: string, metadata: Metadata): Principal | undefined;
  /** Aborted on shutdown, so streams that would run forever (WatchLag, health Watch) end. */
  shutdown: AbortSignal;
  logger: Logger;
  onCallEnd?(path: string, code: status, seconds: number): void;
}

export interface BoundService {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/**
 * A grpc-js service from a protobuf-es service descriptor: the path is
 * `/<package.Service>/<Method>`, messages travel as protobuf-es binary. grpc-js then needs
 * no .proto loading at run time, and the handlers get typed messages.
 */
export function bindService<S extends GenServiceMethods>(
  service: GenService<S>,
  impl: ServiceImpl<S>,
  hooks: CallHooks,
): BoundService {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const [localName, method] of Object.entries(service.method) as Array<[string, DescMethod]>) {
    const path = `/${service.typeName}/${method.name}`;
    definition[method.name] = methodDefinition(path, method);
    const handler = (impl as Record<string, (...args: never[]) => Promise<unknown>>)[localName];
    if (!handler) throw new Error(`${service.typeName} has no handler for ${method.name}`);
    implementation[method.name] = adapt(path, method, handler as Handler, hooks);
  }
  return { definition: definition as ServiceDefinition, implementation };
}

export function methodDefinition(path: string, method: Method): MethodDefinition<unknown, unknown> {
  return {
    path,
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: (value) =>
      Buffer.from(toBinary(method.input, create(method.input, value as MessageInitShape<DescMessage>))),
    requestDeserialize: (bytes) => fromBinary(method.input, bytes),
    responseSerialize: (value) =>
      Buffer.from(toBinary(method.output, create(method.output, value as MessageInitShape<DescMessage>))),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

type Handler = (first: unknown, ctx: CallContext, send?: (message: unknown) => Promise<void>) => Promise<unknown>;
/** What every kind of server call has; the union of the call types has no common `once`. */
type AnyCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata'> & NodeJS.EventEmitter;

function adapt(path: string, method: DescMethod, handler: Handler, hooks: CallHooks) {
  const run = async (
    call: AnyCall,
    body: (ctx: CallContext) => Promise<unknown>,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: ServerErrorResponse & { code: status } }> => {
    const started = process.hrtime.bigint();
    const cancelled = new AbortController();
    const onCancel = () => cancelled.abort(new RpcError(status.CANCELLED, 'cancelled by the client'));
    call.once('cancelled', onCancel);
    const signal = AbortSignal.any([cancelled.signal, hooks.shutdown]);
    let code: status = status.OK;
    try {
      const principal = hooks.authorize(path, call.metadata);
      const value = await body({ path, principal, metadata: call.metadata, signal });
      return { ok: true, value };
    } catch (err) {
      // Once cancelled or shut down, whatever the handler tripped over is a consequence.
      const error = toServiceError(
        signal.aborted && signal.reason instanceof RpcError ? signal.reason : err,
        path,
        hooks.logger,
      );
      code = error.code;
      return { ok: false, error };
    } finally {
      call.off('cancelled', onCancel);
      hooks.onCallEnd?.(path, code, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
  const sender =
    (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, signal: AbortSignal) =>
    async (message: unknown) => {
      signal.throwIfAborted();
      // Respect backpressure: a slow client must not make the server buffer without bound.
      if (!call.write(create(method.output, message as MessageInitShape<DescMessage>)))
        await once(call, 'drain', { signal });
    };

  switch (method.methodKind) {
    case 'unary':
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        void run(call, (ctx) => handler(call.request, ctx)).then((r) =>
          r.ok ? callback(null, create(method.output, r.value as MessageInitShape<DescMessage>)) : callback(r.error),
        );
      };
    case 'server_streaming':
      return (call: ServerWritableStream<unknown, unknown>) => {
        void run(call, (ctx) => handler(call.request, ctx, sender(call, ctx.signal))).then((r) =>
          r.ok ? call.end() : call.emit('error', r.error),
        );
      };
    case 'bidi_streaming':
      return (call: ServerDuplexStream<unknown, unknown>) => {
        void run(call, (ctx) => handler(call as AsyncIterable<unknown>, ctx, sender(call, ctx.signal))).then((r) =>
          r.ok ? call.end() : call.emit('error', r.error),
        );
      };
    default:
      throw new Error(`${path}: ${method.methodKind} methods are not supported`);
  }
}

/** Expected failures keep their code and message; anything else is a bug, logged with its stack. */
function toServiceError(err: unknown, path: string, logger: Logger): ServerErrorResponse & { code: status } {
  if (err instanceof RpcError) return Object.assign(new Error(err.message), { code: err.code, details: err.message });
  logger.error({ err, path }, 'rpc failed');
  const details = `internal error: ${(err as Error)?.message ?? String(err)}`;
  return Object.assign(new Error(details), { code: status.INTERNAL, details });
}
