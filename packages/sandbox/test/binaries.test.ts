import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinaries, findPgBin } from '../src/index.js';

describe('findBinaries', () => {
  it('says how to install PostgreSQL when it is missing, listing where it looked', () => {
    expect(() => findPgBin({ FABRIC_PG_BIN: '/opt/pg/bin' }, ['/nonexistent/15/bin'])).toThrow(
      /PostgreSQL 15 \(initdb, postgres\) not found\. Looked in \/opt\/pg\/bin, \/nonexistent\/15\/bin\. Install it: apt-get install postgresql-15, or set FABRIC_PG_BIN/,
    );
  });

  it('prefers FABRIC_PG_BIN when it holds initdb and postgres', () => {
    expect(findPgBin({ FABRIC_PG_BIN: '/usr/lib/postgresql/15/bin' }, [])).toBe('/usr/lib/postgresql/15/bin');
  });

  it('says how to resolve the Kafka jars when the folder is empty', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'kafka-libs-'));
    expect(() => findBinaries(empty)).toThrow(
      /mvn -q -f packages\/sandbox\/kafka\/pom.xml dependency:copy-dependencies/,
    );
  });

  it('names the missing command and the apt package', () => {
    expect(() => findBinaries('/nonexistent', { PATH: '/nonexistent' })).toThrow(
      /redis-server not found\. Install it: apt-get install redis-server/,
    );
  });
});
