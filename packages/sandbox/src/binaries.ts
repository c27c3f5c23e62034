import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { MissingBinaryError, SETUP_HINT } from './errors.js';
import { embeddedPgBin, type PostgresVersion } from './postgres-versions.js';

export interface Binaries {
  /** Directory holding initdb, postgres, pg_ctl. */
  pgBin: string;
  redisServer: string;
  java: string;
  /** Wraps children so the kernel stops them if the sandbox dies without cleaning up. */
  setpriv: string;
  /** Directory of Kafka broker jars resolved by Maven. */
  kafkaLibs: string;
}

export function findBinaries(
  kafkaLibs: string,
  env: NodeJS.ProcessEnv = process.env,
  postgres: PostgresVersion = 15,
): Binaries {
  return {
    pgBin: findPgBinFor(postgres, env),
    redisServer: findOnPath('redis-server', env, 'Install it: apt-get install redis-server. ' + SETUP_HINT),
    java: findOnPath('java', env, 'Install a JDK 17: apt-get install openjdk-17-jre-headless. ' + SETUP_HINT),
    setpriv: findOnPath('setpriv', env, 'Install util-linux. ' + SETUP_HINT),
    kafkaLibs: findKafkaLibs(kafkaLibs),
  };
}

/** The bin directory of one PostgreSQL major: Debian's for 15, the pinned npm build for 16–18. */
export function findPgBinFor(version: PostgresVersion, env: NodeJS.ProcessEnv): string {
  return version === 15 ? findPgBin(env) : embeddedPgBin(version, env);
}

export function findPgBin(env: NodeJS.ProcessEnv, defaults = ['/usr/lib/postgresql/15/bin']): string {
  const candidates = [env.FABRIC_PG_BIN, ...defaults].filter((d): d is string => !!d);
  for (const dir of candidates) {
    if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))) return dir;
  }
  throw new MissingBinaryError(
    'PostgreSQL 15 (initdb, postgres)',
    `Looked in ${candidates.join(', ')}. Install it: apt-get install postgresql-15, or set FABRIC_PG_BIN to its bin directory. ${SETUP_HINT}`,
  );
}

function findKafkaLibs(dir: string): string {
  const ok = existsSync(dir) && readdirSync(dir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f));
  if (!ok) {
    throw new MissingBinaryError(
      `Kafka broker jars in ${dir}`,
      `Resolve them with Maven: mvn -q -f packages/sandbox/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=${dir}. ${SETUP_HINT}`,
    );
  }
  return dir;
}

function findOnPath(name: string, env: NodeJS.ProcessEnv, fix: string): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  throw new MissingBinaryError(name, fix);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
