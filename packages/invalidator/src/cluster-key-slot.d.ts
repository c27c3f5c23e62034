// The package ships no types. ioredis computes its routing slot with this same function.
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0-16383) of a key given as a string (UTF-8 encoded) or as bytes. */
  function calculateSlot(key: string | Uint8Array): number;
  export = calculateSlot;
}
