// Written re-exports only; everything under ./gen is produced by `buf generate`.
export * from './gen/fabric/v1/invalidation_pb.js';
export { create, toBinary, fromBinary, toJson, fromJson } from '@bufbuild/protobuf';
export { timestampFromDate, timestampDate, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
