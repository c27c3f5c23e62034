import { ConfigError } from './config-error.js';
import { onOffFlag } from './flags.js';

export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/**
 * How a component reaches a region's brokers: TLS (verifying the brokers against `ca`, or
 * the system's roots when absent; a client certificate for mTLS) and SASL. Nothing set is
 * plaintext without authentication, the sandbox's default. Passwords are read once here
 * and never logged.
 */
export interface KafkaSecurity {
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
}

/** The Kafka security flags every component that talks to a region's brokers takes (for parseArgs). */
export const KAFKA_SECURITY_OPTIONS = {
  'kafka-tls': { type: 'string' },
  'kafka-ca': { type: 'string' },
  'kafka-cert': { type: 'string' },
  'kafka-key': { type: 'string' },
  'kafka-sasl': { type: 'string' },
  'kafka-username': { type: 'string' },
  'kafka-password-file': { type: 'string' },
} as const;

/** Their --help lines. */
export const KAFKA_SECURITY_HELP = `  --kafka-tls on|off      TLS to the brokers (default off; on when --kafka-ca or --kafka-cert
                          is given) [FABRIC_KAFKA_TLS]
  --kafka-ca FILE         CA bundle to verify the brokers' certificates (default: system CAs)
  --kafka-cert FILE       Client certificate for mTLS, with --kafka-key FILE
  --kafka-sasl MECH       scram-sha-256, scram-sha-512 or plain [FABRIC_KAFKA_SASL]
  --kafka-username NAME   SASL user [FABRIC_KAFKA_USERNAME]
  --kafka-password-file F SASL password, read from a file; or [FABRIC_KAFKA_PASSWORD]
`;

export interface KafkaSecurityFlagValues {
  'kafka-tls'?: string;
  'kafka-ca'?: string;
  'kafka-cert'?: string;
  'kafka-key'?: string;
  'kafka-sasl'?: string;
  'kafka-username'?: string;
  'kafka-password-file'?: string;
}

export function parseKafkaSecurity(
  values: KafkaSecurityFlagValues,
  env: NodeJS.ProcessEnv,
  readFile: (f: string) => string,
): KafkaSecurity {
  const read = (flag: string, file: string) => {
    try {
      return readFile(file);
    } catch (err) {
      throw new ConfigError(flag, `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const security: KafkaSecurity = {};
  const caFile = values['kafka-ca'];
  const certFile = values['kafka-cert'];
  const keyFile = values['kafka-key'];
  if (Boolean(certFile) !== Boolean(keyFile))
    throw new ConfigError(certFile ? '--kafka-key' : '--kafka-cert', 'mTLS needs both --kafka-cert and --kafka-key');
  const tlsFlag = values['kafka-tls'] ?? env.FABRIC_KAFKA_TLS;
  const tlsOn = tlsFlag === undefined ? Boolean(caFile || certFile) : onOffFlag('--kafka-tls', tlsFlag);
  if (!tlsOn && (caFile || certFile))
    throw new ConfigError('--kafka-tls', 'is off, yet --kafka-ca or --kafka-cert is given: drop them or turn it on');
  if (tlsOn) {
    security.tls = {
      ...(caFile ? { ca: read('--kafka-ca', caFile) } : {}),
      ...(certFile && keyFile ? { cert: read('--kafka-cert', certFile), key: read('--kafka-key', keyFile) } : {}),
    };
  }
  const mechanism = values['kafka-sasl'] ?? env.FABRIC_KAFKA_SASL;
  const username = values['kafka-username'] ?? env.FABRIC_KAFKA_USERNAME;
  const passwordFile = values['kafka-password-file'];
  const password = passwordFile ? read('--kafka-password-file', passwordFile).trim() : env.FABRIC_KAFKA_PASSWORD;
  if (mechanism === undefined) {
    if (username || password)
      throw new ConfigError('--kafka-sasl', 'is required with a Kafka username or password: scram-sha-512, ...');
    return security;
  }
  if (!KAFKA_SASL_MECHANISMS.includes(mechanism as KafkaSaslMechanism))
    throw new ConfigError('--kafka-sasl', `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, got "${mechanism}"`);
  if (!username) throw new ConfigError('--kafka-username', `is required with --kafka-sasl ${mechanism}`);
  if (!password)
    throw new ConfigError(
      '--kafka-password-file',
      `is required with --kafka-sasl ${mechanism} (or FABRIC_KAFKA_PASSWORD)`,
    );
  if (mechanism === 'plain' && !tlsOn)
    throw new ConfigError(
      '--kafka-sasl',
      'plain sends the password in clear: use it with --kafka-tls on, or use SCRAM',
    );
  security.sasl = { mechanism: mechanism as KafkaSaslMechanism, username, password };
  return security;
}

/** For a start-up log line: what is in force, never the secrets. */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  const tls = security.tls ? (security.tls.cert ? 'mtls' : 'tls') : 'plaintext';
  return security.sasl ? `${tls}+sasl/${security.sasl.mechanism} as ${security.sasl.username}` : tls;
}
