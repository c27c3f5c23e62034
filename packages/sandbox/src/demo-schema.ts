import { FABRIC_TABLES } from './fabric-schema.js';

/**
 * The demo application's schema every region gets, after FABRIC_SCHEMA. Replicas need the
 * same tables for their subscription, and REPLICA IDENTITY FULL on both sides: the region's
 * CDC reader decodes its *own* WAL, so the old row a key rule like `team:{old.team_id}`
 * needs must be logged by the replica's table too, not only the primary's.
 */
export const DEMO_SCHEMA = `
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
`;

/** Tables the primary publishes to every regional replica: the demo's and the fabric's own. */
export const REPLICATED_TABLES = ['public.teams', 'public.users', 'public.products', ...FABRIC_TABLES];

export const DATABASE = 'fabric';
export const PUBLICATION = 'fabric_regions';
