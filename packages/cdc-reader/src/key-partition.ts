/**
 * The partition a message key goes to, exactly as kafkajs's DefaultPartitioner (the Java
 * client's murmur2 of the key's UTF-8 bytes, made positive, modulo the partition count)
 * puts it, which every other producer of the region's topic uses (the control plane's
 * manual invalidations, dead-letter replays): one key's events share a partition whoever
 * publishes them. The reader names the partition itself because kafkajs computes murmur2
 * with 64-bit Long objects, about a tenth of the reader's CPU in a catch-up; this is the
 * same function in 32-bit integer arithmetic. The test checks it against kafkajs's own.
 */
export function keyPartition(key: string, partitions: number): number {
  return (murmur2(utf8(key)) & 0x7fffffff) % partitions;
}

const M = 0x5bd1e995;

function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes, as Java's switch falls through them.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

const scratch = new Uint8Array(256);
const encoder = new TextEncoder();

/** The key's UTF-8 bytes, without an allocation for a key that fits the scratch buffer. */
function utf8(key: string): Uint8Array {
  if (key.length * 3 <= scratch.length) {
    const { written } = encoder.encodeInto(key, scratch);
    return scratch.subarray(0, written);
  }
  return encoder.encode(key);
}
