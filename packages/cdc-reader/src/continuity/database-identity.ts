import pg from 'pg';
import { parseTimelineHistory, type TimelineSwitch } from './judge.js';

export interface DatabaseIdentity {
  systemId: string;
  /** The timeline the server writes (primary) or replays (standby) now. */
  timeline: number;
  /** Switch points of the current timeline's history: where each earlier timeline ended. */
  timelineSwitch: TimelineSwitch;
}

/**
 * IDENTIFY_SYSTEM and TIMELINE_HISTORY over a replication connection: on a standby they
 * answer with the timeline being replayed, which pg_control_checkpoint() only knows as of
 * the last restartpoint.
 */
export async function databaseIdentity(connectionString: string): Promise<DatabaseIdentity> {
  const client = new pg.Client({ connectionString, replication: 'database' } as pg.ClientConfig);
  await client.connect();
  try {
    const { rows } = await client.query<{ systemid: string; timeline: string | number }>('IDENTIFY_SYSTEM');
    const row = rows[0];
    if (!row) throw new Error('IDENTIFY_SYSTEM returned nothing');
    const timeline = Number(row.timeline);
    let history = new Map<number, string>();
    // Timeline 1 has no history file: nothing came before it.
    if (timeline > 1) {
      const h = await client.query<{ content: string | Buffer }>(`TIMELINE_HISTORY ${timeline}`);
      const content = h.rows[0]?.content;
      history = parseTimelineHistory(Buffer.isBuffer(content) ? content.toString('utf8') : String(content ?? ''));
    }
    return { systemId: String(row.systemid), timeline, timelineSwitch: (t) => history.get(t) };
  } finally {
    await client.end();
  }
}
