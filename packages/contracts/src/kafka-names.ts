/**
 * Kafka names derived from a region. The reader publishes to the invalidation topic, the
 * invalidator consumes it in the region's group, both dead-letter to `<topic>.dlq`, and the
 * control plane reads all three and records replays beside the DLQ. The sandbox, compose
 * and Helm create the topics under the same names.
 */
export function invalidationTopic(region: string): string {
  return `fabric.inval.${region}`;
}

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** One record per replayed dead letter, keyed "partition:offset"; compacted. */
export function replayLedgerTopic(deadLetterTopic: string): string {
  return `${deadLetterTopic}.replayed`;
}

export function invalidatorGroup(region: string): string {
  return `fabric-invalidator-${region}`;
}
