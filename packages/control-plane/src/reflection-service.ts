import {
  create,
  type DescEnum,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { reflectionV1, reflectionV1alpha } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import type { ImplOf } from './grpc-service.js';

type Response = MessageInitShape<typeof reflectionV1.ServerReflectionResponseSchema>;

/**
 * The descriptors reflection serves, straight from the protobuf-es generated code: every
 * served service's file and, transitively, the files it imports (e.g.
 * google/protobuf/timestamp.proto), so a client can rebuild every message type.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  readonly serviceNames: string[];

  constructor(services: DescService[]) {
    this.serviceNames = services.map((s) => s.typeName);
    for (const service of services) this.addFile(service.file);
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    file.dependencies.forEach((d) => this.addFile(d));
    const symbol = (name: string) => this.symbols.set(name, file);
    const addEnum = (e: DescEnum) => {
      symbol(e.typeName);
      // Enum values are scoped beside their enum, as in protobuf name resolution.
      const scope = e.parent?.typeName ?? file.proto.package;
      e.values.forEach((v) => symbol(scope ? `${scope}.${v.name}` : v.name));
    };
    const addMessage = (m: DescMessage) => {
      symbol(m.typeName);
      m.fields.forEach((f) => symbol(`${m.typeName}.${f.name}`));
      m.oneofs.forEach((o) => symbol(`${m.typeName}.${o.name}`));
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach(addEnum);
    };
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    for (const s of file.services) {
      symbol(s.typeName);
      s.methods.forEach((m) => symbol(`${s.typeName}.${m.name}`));
    }
  }
}

export function reflectionHandlers(index: DescriptorIndex): {
  v1: ImplOf<typeof reflectionV1.ServerReflection>;
  v1alpha: ImplOf<typeof reflectionV1alpha.ServerReflection>;
} {
  const v1: ImplOf<typeof reflectionV1.ServerReflection> = {
    async serverReflectionInfo(requests, _ctx, send) {
      // Like grpc-go: a dependency goes out once per stream; the requested file always does.
      const sent = new Set<string>();
      for await (const request of requests) await send(answer(index, request, sent));
    },
  };
  // v1alpha is v1 under another package name, identical on the wire: transcode the bytes.
  const V1 = reflectionV1;
  const Alpha = reflectionV1alpha;
  const v1alpha: ImplOf<typeof reflectionV1alpha.ServerReflection> = {
    async serverReflectionInfo(requests, ctx, send) {
      async function* asV1() {
        for await (const r of requests)
          yield fromBinary(V1.ServerReflectionRequestSchema, toBinary(Alpha.ServerReflectionRequestSchema, r));
      }
      await v1.serverReflectionInfo(asV1(), ctx, (res) =>
        send(
          fromBinary(
            Alpha.ServerReflectionResponseSchema,
            toBinary(V1.ServerReflectionResponseSchema, create(V1.ServerReflectionResponseSchema, res)),
          ),
        ),
      );
    },
  };
  return { v1, v1alpha };
}

function answer(index: DescriptorIndex, request: reflectionV1.ServerReflectionRequest, sent: Set<string>): Response {
  const base = { validHost: request.host, originalRequest: request };
  const error = (code: status, message: string): Response => ({
    ...base,
    messageResponse: { case: 'errorResponse', value: { errorCode: code, errorMessage: message } },
  });
  const files = (file: DescFile | undefined, what: string): Response => {
    if (!file) return error(status.NOT_FOUND, `${what} not found`);
    return {
      ...base,
      messageResponse: { case: 'fileDescriptorResponse', value: { fileDescriptorProto: withDependencies(file, sent) } },
    };
  };
  const r = request.messageRequest;
  switch (r.case) {
    case 'listServices':
      return {
        ...base,
        messageResponse: {
          case: 'listServicesResponse',
          value: { service: index.serviceNames.map((name) => ({ name })) },
        },
      };
    case 'fileByFilename':
      return files(index.fileByName(r.value), `file ${r.value}`);
    case 'fileContainingSymbol':
      return files(index.fileContainingSymbol(r.value), `symbol ${r.value}`);
    case 'fileContainingExtension':
      // None of the served files declares an extension.
      return error(status.NOT_FOUND, `extension ${r.value.extensionNumber} of ${r.value.containingType} not found`);
    case 'allExtensionNumbersOfType':
      if (!index.fileContainingSymbol(r.value)) return error(status.NOT_FOUND, `type ${r.value} not found`);
      return {
        ...base,
        messageResponse: { case: 'allExtensionNumbersResponse', value: { baseTypeName: r.value, extensionNumber: [] } },
      };
    default:
      return error(status.INVALID_ARGUMENT, 'message_request: not set');
  }
}

function withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const visit = (f: DescFile, requested: boolean) => {
    if (sent.has(f.proto.name) && !requested) return;
    sent.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    f.dependencies.forEach((d) => visit(d, false));
  };
  visit(file, true);
  return out;
}
