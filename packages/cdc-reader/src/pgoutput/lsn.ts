import { type Lsn, lsnFromHalves } from '@fabric/contracts';

/**
 * Reads a 64-bit big-endian WAL position from a buffer (pgoutput and the replication
 * protocol carry them so) as an LSN. The text forms, their order and their 16-hex-digit
 * form are @fabric/contracts', shared with the invalidator and the SDK.
 */
export function readLsn(buf: Buffer, offset: number): Lsn {
  return lsnFromHalves(buf.readUInt32BE(offset), buf.readUInt32BE(offset + 4));
}
