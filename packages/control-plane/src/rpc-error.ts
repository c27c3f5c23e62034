import { status } from '@grpc/grpc-js';

/**
 * An expected failure of an RPC, with the gRPC status the client gets. Messages of bad
 * requests start with the field they are about ("regions[1]: ..."), so a caller can fix
 * the request without reading server logs.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }

  static invalidArgument(field: string, message: string): RpcError {
    return new RpcError(status.INVALID_ARGUMENT, `${field}: ${message}`);
  }

  static notFound(field: string, message: string): RpcError {
    return new RpcError(status.NOT_FOUND, `${field}: ${message}`);
  }

  static unavailable(message: string): RpcError {
    return new RpcError(status.UNAVAILABLE, message);
  }
}
