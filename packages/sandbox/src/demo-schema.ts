/**
 * The demo schema every region gets. Replicas need the same tables for their
 * subscription, and REPLICA IDENTITY FULL on both sides: the region's CDC reader decodes
 * its *own* WAL, so the old row a key rule like `team:{old.team_id}` needs must be logged
 * by the replica's table too, not only the primary's.
 *
 * The `fabric` schema holds what the fabric itself writes through the primary: the
 * heartbeat (per-region freshness while the application is idle) and the outbox
 * (explicit invalidations in the application's own transaction).
 */
export const DEMO_SCHEMA = `
create schema if not exists fabric;

create table if not exists public.teams (
  id bigint primary key,
  name text not null
);
create table if not exists public.users (
  id bigint primary key,
  team_id bigint,
  name text not null,
  email text,
  avatar_url text,
  bio text
);
create table if not exists public.products (
  id bigint primary key,
  sku text not null unique,
  name text not null,
  price_cents integer not null,
  description text
);
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

alter table public.teams replica identity full;
alter table public.users replica identity full;
alter table public.products replica identity full;
alter table fabric.heartbeat replica identity full;
alter table fabric.outbox replica identity full;
`;

/** Tables the primary publishes to every regional replica. */
export const REPLICATED_TABLES = [
  'public.teams',
  'public.users',
  'public.products',
  'fabric.heartbeat',
  'fabric.outbox',
];

export const DATABASE = 'fabric';
export const PUBLICATION = 'fabric_regions';
