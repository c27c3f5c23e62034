import { type Lsn, normalizeLsn } from '@fabric/contracts';

const SLOT_NAME_RE = /^[a-z0-9_]{1,63}$/;

/** START_REPLICATION for pgoutput v1. Publication names are quoted (the server would downcase them otherwise). */
export function startReplicationSql(slot: string, publication: string, startLsn: Lsn = '0/0'): string {
  if (!SLOT_NAME_RE.test(slot))
    throw new Error(`invalid replication slot name ${JSON.stringify(slot)} (lower-case letters, digits, underscores)`);
  if (!publication) throw new Error('publication name is empty');
  const start = normalizeLsn(startLsn);
  const pubIdent = `"${publication.replace(/"/g, '""')}"`.replace(/'/g, "''");
  return `START_REPLICATION SLOT "${slot}" LOGICAL ${start} (proto_version '1', publication_names '${pubIdent}', messages 'true')`;
}
