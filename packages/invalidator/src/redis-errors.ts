/**
 * Connection errors that no amount of reconnecting fixes, with the flag that does. Anything
 * else (refused, reset, timeout) is an outage and is retried quietly.
 */
export function redisErrorHint(err: Error): string | undefined {
  const m = err.message;
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(m))
    return 'Redis refused the credentials: check --redis-user and --redis-password-file (or FABRIC_REDIS_PASSWORD)';
  if (/NOPERM/.test(m))
    return 'the Redis ACL user lacks a permission: it needs UNLINK, INCR, SET, SADD, SCAN, EVALSHA/EVAL on ~* (or the key prefixes used)';
  if (/certificate|self.signed|unable to verify|SSL|TLS/i.test(m))
    return 'TLS to Redis failed: check --redis-tls-ca and that the server name matches its certificate';
  return undefined;
}
