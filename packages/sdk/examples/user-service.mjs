// A user service on plain node:http, reading through the fabric's SDK in one region and
// writing at the primary. docs/sdk.md walks through it; test/sdk/guide-example.test.ts runs it
// against the sandbox. With `npm start` running, eu-west's endpoints are:
//
//   FABRIC_REGION=eu-west REDIS_URL=redis://127.0.0.1:25413 \
//   DATABASE_URL=postgres://postgres@127.0.0.1:25410/fabric \
//   PRIMARY_URL=postgres://postgres@127.0.0.1:25400/fabric PORT=8080 \
//   node packages/sdk/examples/user-service.mjs
//
//   curl -i -X PUT 127.0.0.1:8080/users/1 -d '{"name":"Ada"}'     # answers X-Commit-Token
//   curl 127.0.0.1:8080/users/1 -H 'X-Commit-Token: <token>'      # never the name before the PUT
import { createServer } from 'node:http';
import { CommitTokenError, commitToken, FabricCache, InvalidationBus, L1Cache, parseCommitToken } from '@fabric/sdk';
import { Redis } from 'ioredis';
import pg from 'pg';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see the header of this file)`);
  return value;
};

const region = env('FABRIC_REGION');
const redis = new Redis(env('REDIS_URL'));
const replica = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 }); // this region's database
const primary = new pg.Pool({ connectionString: env('PRIMARY_URL'), max: 2 }); // writes go home

// The bus keeps L1 in step with every invalidator of the region; without it L1 is refused.
const bus = new InvalidationBus({ redis, region });
await bus.start();
const cache = new FabricCache(redis, {
  ttlSeconds: 300,
  ttlJitter: 0.1,
  leaseMs: 5_000,
  waitMs: 1_000,
  graceSeconds: 60, // serve the last value (flagged stale) for a minute if the database fails
  hardTimeoutMs: 2_000,
  negativeTtlSeconds: 5, // unknown ids stop reaching the database for 5 s
  l1: new L1Cache({ maxEntries: 10_000, maxBytes: 32 * 1024 * 1024, maxTtlMs: 30_000 }),
  bus,
});

// The key rules invalidate user:{id}, the tag team:{team_id}:members and ver:user:{id}.
async function loadUser(id) {
  const { rows } = await replica.query('select id, team_id, name, email from users where id = $1', [id]);
  return rows[0] ?? null; // null: "not found", cached for negativeTtlSeconds
}

async function readBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text === '' ? {} : JSON.parse(text);
}

const reply = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const server = createServer(async (req, res) => {
  const match = /^\/users\/(\d+)$/.exec(req.url ?? '');
  if (!match) return reply(res, 404, { error: 'try /users/<id>' });
  const id = Number(match[1]);
  try {
    if (req.method === 'PUT') {
      const { name } = await readBody(req);
      const client = await primary.connect();
      try {
        await client.query('update users set name = $2 where id = $1', [id, name]);
        // Right after COMMIT (autocommit here), on the connection that wrote.
        const token = await commitToken(client);
        return reply(res, 200, { id, name }, { 'x-commit-token': token });
      } finally {
        client.release();
      }
    }
    const header = req.headers['x-commit-token'];
    const after = typeof header === 'string' ? parseCommitToken(header) : undefined;
    const entry = await cache.getEntry(`user:${id}`, () => loadUser(id), {
      versionKey: `ver:user:${id}`,
      after, // read-your-writes: cached only once this region applied the write
      afterWaitMs: 500,
    });
    if (entry.value === null) return reply(res, 404, { error: `no user ${id}` });
    return reply(res, 200, entry.value, { 'x-cache': entry.stale ? `stale (${entry.reason})` : entry.source });
  } catch (err) {
    if (err instanceof CommitTokenError) return reply(res, 400, { error: err.message });
    return reply(res, 503, { error: err instanceof Error ? err.message : String(err) });
  }
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  process.stdout.write(`user-service (${region}) listening on ${JSON.stringify(server.address())}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    server.close();
    await bus.stop();
    await Promise.all([replica.end(), primary.end()]);
    redis.disconnect();
  });
}
