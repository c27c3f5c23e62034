import type { KafkaSecurity } from './kafka-security.js';

/**
 * A broker that wants TLS or SASL does not say so: it hangs up on the first request it
 * does not expect, and kafkajs reports "Closed connection" after its retries, which reads
 * like an outage. Given the security the client was built with, these name the setting
 * that is most likely missing or wrong. A hang-up from a client that already has both TLS
 * and SASL is an outage (a broker restarting) and gets no hint.
 */

/** The names an operator knows the settings by: the workers' flags, or a region's JSON fields. */
export interface KafkaSettingNames {
  tls: string;
  ca: string;
  sasl: string;
}

export const KAFKA_FLAG_NAMES: KafkaSettingNames = {
  tls: '--kafka-tls on (or --kafka-ca FILE)',
  ca: '--kafka-ca',
  sasl: '--kafka-sasl, --kafka-username and --kafka-password-file (or FABRIC_KAFKA_PASSWORD)',
};

/** For the control plane: `at` is the region's JSON path, e.g. `regions[1]`. */
export function kafkaFieldNames(at: string): KafkaSettingNames {
  return { tls: `${at}.kafkaTls`, ca: `${at}.kafkaTls.ca`, sasl: `${at}.kafkaSasl` };
}

export function kafkaErrorHint(
  err: unknown,
  security: KafkaSecurity,
  names: KafkaSettingNames = KAFKA_FLAG_NAMES,
): string | undefined {
  const levels = causeChain(err);
  const says = (pattern: RegExp) => levels.some((e) => pattern.test(e.message));
  const is = (name: string) => levels.some((e) => e.name === name);
  if (says(/UNSUPPORTED_SASL_MECHANISM|mechanism is not supported/i))
    return `the brokers do not offer SASL ${security.sasl?.mechanism ?? ''}: check ${names.sasl} against the listener's mechanisms`;
  if (is('KafkaJSSASLAuthenticationError') || says(/SASL .*authentication failed/i))
    return `Kafka refused the credentials${security.sasl ? ` of ${security.sasl.username}` : ''}: check ${names.sasl}`;
  if (says(/certificate|self.signed|unable to verify|Hostname\/IP does not match/i))
    return `TLS to Kafka failed: check ${names.ca} and that the broker's address matches its certificate`;
  if (security.tls && says(/before secure TLS connection|wrong version number|EPROTO/i))
    return `the broker did not answer TLS: that port may be a plaintext listener (check ${names.tls} and the broker address)`;
  if (is('KafkaJSConnectionClosedError') || says(/Closed connection/i)) {
    const missing = [
      security.tls ? undefined : `TLS (${names.tls})`,
      security.sasl ? undefined : `SASL (${names.sasl})`,
    ];
    const wanted = missing.filter((m): m is string => m !== undefined);
    if (wanted.length === 0) return undefined;
    return `the broker closed the connection at once, as a listener does that requires what this client lacks: ${wanted.join(' or ')}`;
  }
  return undefined;
}

/** An operator has a Kafka setting to fix: the hint, then what kafkajs said. */
export class KafkaAccessError extends Error {
  override name = 'KafkaAccessError';
  constructor(
    readonly hint: string,
    cause: unknown,
  ) {
    super(`${hint} (Kafka said: ${causeChain(cause).at(-1)?.message})`, { cause });
  }
}

/** `err` as a KafkaAccessError when a hint applies, else unchanged: for a `.catch` at start-up. */
export function explainKafkaError(err: unknown, security: KafkaSecurity, names?: KafkaSettingNames): unknown {
  const hint = kafkaErrorHint(err, security, names);
  return hint ? new KafkaAccessError(hint, err) : err;
}

/** The error and its causes: kafkajs wraps the broker's answer as `cause` when it gives up retrying. */
function causeChain(err: unknown): Array<{ name: string; message: string }> {
  const levels: Array<{ name: string; message: string }> = [];
  // Depth-bounded: a cyclic chain must not hang the start-up path.
  for (let current = err, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const e = current as { name?: unknown; message?: unknown; cause?: unknown };
    levels.push({
      name: typeof e.name === 'string' ? e.name : '',
      message: typeof e.message === 'string' ? e.message : String(current),
    });
    current = typeof current === 'object' ? e.cause : undefined;
  }
  return levels;
}
