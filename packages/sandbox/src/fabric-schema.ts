/**
 * The fabric's own tables, which every region's database gets before any application
 * schema: the heartbeat (per-region freshness while the application is idle) and the outbox
 * (explicit invalidations in the application's own transaction). Both are written through
 * the primary and replicate to every region. deploy/postgres/fabric-schema.sql is the same
 * text for compose and hand-prepared databases (test/deploy/schema.test.ts compares them).
 */
export const FABRIC_SCHEMA = `
create schema if not exists fabric;

create table if not exists fabric.heartbeat (
  id smallint primary key default 1,
  beat_at timestamptz not null default now(),
  seq bigint not null default 0
);
create table if not exists fabric.outbox (
  id bigserial primary key,
  payload jsonb not null,
  -- set by the home reader when it copies a logical message here for the other regions
  relayed_from text,
  created_at timestamptz not null default now()
);
alter table fabric.outbox add column if not exists relayed_from text;
-- the primary's WAL position at each beat: read-your-writes watermarks in logical regions
alter table fabric.heartbeat add column if not exists primary_lsn pg_lsn;

alter table fabric.heartbeat replica identity full;
alter table fabric.outbox replica identity full;
`;

/** The tables FABRIC_SCHEMA creates; every region replicates them. */
export const FABRIC_TABLES = ['fabric.heartbeat', 'fabric.outbox'];
