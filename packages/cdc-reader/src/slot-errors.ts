export class SlotSetupError extends Error {
  override readonly name = 'SlotSetupError';
}

/**
 * The slot can no longer be decoded: the changes between its last confirmed position and
 * now are gone for this reader. Making a new slot silently would leave the cache stale for
 * every one of them, so the reader stops here and says how to recover.
 */
export function slotInvalidatedError(slot: string, reason: string, standby: boolean): SlotSetupError {
  return new SlotSetupError(
    `replication slot ${slot} was invalidated by PostgreSQL (${reason})${standby ? ' on this standby' : ''}: ` +
      'changes since its last confirmed position cannot be decoded. Drop it ' +
      `(select pg_drop_replication_slot('${slot}')) and restart the reader to make a new one, and clear this ` +
      "region's cache (its entries may be stale) or let their TTLs run out.",
  );
}
