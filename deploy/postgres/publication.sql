-- Home region only: what the primary publishes to every regional replica. The table list
-- matches REPLICATED_TABLES in packages/sandbox/src/demo-schema.ts (checked by
-- test/deploy/schema.test.ts).
create publication fabric_regions for table public.teams, public.users, public.products, fabric.heartbeat, fabric.outbox;
