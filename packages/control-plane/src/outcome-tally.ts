/**
 * The bookkeeping a pass over dead letters shares, whatever it does to them (a replay, a
 * resolution): letters scanned, letters matched and the bucket each outcome falls in, and
 * the items handled since the last progress message, handed over once.
 */
export class OutcomeTally<Bucket extends string, Item> {
  private scannedCount = 0n;
  private matchedCount = 0n;
  private readonly counts = new Map<Bucket, bigint>();
  private items: Item[] = [];

  scannedOne(): void {
    this.scannedCount++;
  }

  note(bucket: Bucket, item: Item): void {
    this.matchedCount++;
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0n) + 1n);
    this.items.push(item);
  }

  get scanned(): bigint {
    return this.scannedCount;
  }

  get matched(): bigint {
    return this.matchedCount;
  }

  count(bucket: Bucket): bigint {
    return this.counts.get(bucket) ?? 0n;
  }

  /** The items noted since the previous call. */
  takeItems(): Item[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}
