-- Home region only: the CDC readers' publication (READER_PUBLICATION in
-- packages/contracts), created once at the primary. A physical standby cannot run DDL: it
-- gets this publication by replication, and its reader waits for it instead of creating
-- it. The table list is what the readers publish with deploy/key-rules.demo.yaml: the
-- rules' tables and the fabric's own (checked by test/deploy/schema.test.ts). Tables of
-- rules added later are added here by the home reader when it starts.
create publication fabric_cdc for table public.teams, public.users, public.products, fabric.heartbeat, fabric.outbox;
