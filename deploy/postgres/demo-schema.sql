-- The demo schema every region's database gets on first start (mounted into
-- /docker-entrypoint-initdb.d, or applied by hand before installing the chart). It must stay
-- identical to DEMO_SCHEMA in packages/sandbox/src/demo-schema.ts, which the local sandbox
-- applies: test/deploy/schema.test.ts compares the two.
--
-- Replicas need the same tables for their subscription, and REPLICA IDENTITY FULL on both
-- sides, because each region's CDC reader decodes its own database's WAL and key rules such
-- as team:{old.team_id} need the old row there too.

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
