-- The fabric's own tables, in every region's database, before any application schema
-- (compose mounts it as 05-fabric-schema.sql; outside compose, `psql -f` it on every
-- database before installing the chart). It must stay identical to FABRIC_SCHEMA in
-- packages/sandbox/src/fabric-schema.ts, which the local sandbox applies:
-- test/deploy/schema.test.ts compares the two.
--
-- What the fabric itself writes through the primary: the heartbeat (per-region freshness
-- while the application is idle) and the outbox (explicit invalidations in the
-- application's own transaction). Both replicate to every region, and REPLICA IDENTITY
-- FULL matches the application tables the regions' subscriptions apply.

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
