-- Home region only: what the primary publishes to logical replicas, whose subscriptions
-- replication-setup.sh creates (docker-compose.logical.yml). Physical standbys do not use
-- it; without a subscription it holds no WAL. The table list matches REPLICATED_TABLES in
-- packages/sandbox/src/demo-schema.ts (checked by test/deploy/schema.test.ts).
create publication fabric_regions for table public.teams, public.users, public.products, fabric.heartbeat, fabric.outbox;
