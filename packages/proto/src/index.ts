// Written re-exports only; everything under ./gen is produced by `buf generate`.

export { create, fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
export { timestampDate, timestampFromDate, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
export * from './gen/fabric/v1/control_pb.js';
export * from './gen/fabric/v1/invalidation_pb.js';
// The standard gRPC protocols under namespaces: v1 and v1alpha reflection share names.
export * as healthV1 from './gen/grpc/health/v1/health_pb.js';
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection_pb.js';
export * as reflectionV1alpha from './gen/grpc/reflection/v1alpha/reflection_pb.js';
