/**
 * PostgreSQL objects the fabric names. The reader creates its slot and publication; the
 * control plane measures their lag; `fabric up` waits for the slot before calling a region
 * ready. Each region's subscription to the primary (and the subscription's slot on the
 * primary) is named after the region.
 */
export const READER_SLOT = 'fabric_cdc';
export const READER_PUBLICATION = 'fabric_cdc';

/** Unquoted lowercase identifiers only: no quoting rules to get wrong in DDL or in queries. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Why `value` cannot name a slot or publication, for the caller's config error; undefined when it can. */
export function identifierError(value: string): string | undefined {
  return IDENTIFIER.test(value) ? undefined : `"${value}" must be a lowercase identifier`;
}

/** Identifier-safe form of a region name (a region name may contain dashes). */
export function regionIdent(region: string): string {
  return region.replaceAll('-', '_');
}

export function subscriptionName(region: string): string {
  return `fabric_sub_${regionIdent(region)}`;
}

/**
 * With physical standbys the primary keeps one physical slot per standby region, and the
 * standby connects under the region's identifier as application_name, which is how
 * pg_stat_replication at the primary names it.
 */
export function standbySlotName(region: string): string {
  return `fabric_standby_${regionIdent(region)}`;
}

export function standbyApplicationName(region: string): string {
  return regionIdent(region);
}
