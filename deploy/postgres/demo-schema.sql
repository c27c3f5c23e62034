-- The demo application's schema every region's database gets on first start (mounted into
-- /docker-entrypoint-initdb.d after fabric-schema.sql, or applied by hand after it before
-- installing the chart). It must stay identical to DEMO_SCHEMA in
-- packages/sandbox/src/demo-schema.ts, which the local sandbox applies:
-- test/deploy/schema.test.ts compares the two.
--
-- Replicas need the same tables for their subscription, and REPLICA IDENTITY FULL on both
-- sides, because each region's CDC reader decodes its own database's WAL and key rules such
-- as team:{old.team_id} need the old row there too.

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

alter table public.teams replica identity full;
alter table public.users replica identity full;
alter table public.products replica identity full;
