import { describe, expect, it } from 'vitest';
import { mergeComposeFiles } from './compose-merge.js';

// The logical mode is an override file, so what the tests read of it is only as right as
// this merge: these are the Compose specification's rules for the fields the files use.
describe('mergeComposeFiles', () => {
  const base = {
    services: {
      db: {
        image: 'postgres:17',
        entrypoint: ['/bin/sh', 'init.sh'],
        command: ['postgres', '-c', 'a=1'],
        environment: { A: '1', B: '2' },
        volumes: ['data:/var/lib/postgresql/data', './x.sql:/docker-entrypoint-initdb.d/x.sql:ro'],
        networks: ['one'],
        depends_on: { other: { condition: 'service_healthy' } },
        healthcheck: { test: ['CMD', 'true'], interval: '5s' },
      },
    },
    configs: { c: { content: 'old' } },
  };

  it('replaces command, entrypoint and the health check test; merges mappings', () => {
    const merged = mergeComposeFiles(base, {
      services: {
        db: {
          entrypoint: ['docker-entrypoint.sh'],
          environment: { B: 'two', C: '3' },
          depends_on: { setup: { condition: 'service_completed_successfully' } },
          healthcheck: { test: ['CMD', 'false'] },
        },
      },
      configs: { c: { content: 'new' } },
    }) as typeof base;
    expect(merged.services.db.entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(merged.services.db.command).toEqual(['postgres', '-c', 'a=1']);
    expect(merged.services.db.environment).toEqual({ A: '1', B: 'two', C: '3' });
    expect(Object.keys(merged.services.db.depends_on)).toEqual(['other', 'setup']);
    expect(merged.services.db.healthcheck).toEqual({ test: ['CMD', 'false'], interval: '5s' });
    expect(merged.configs.c.content).toBe('new');
  });

  it('merges volumes by their container path and networks by name; adds new services', () => {
    const merged = mergeComposeFiles(base, {
      services: {
        db: {
          volumes: ['./y.sql:/docker-entrypoint-initdb.d/x.sql:ro', './z.sql:/docker-entrypoint-initdb.d/z.sql:ro'],
          networks: ['one', 'two'],
        },
        setup: { image: 'postgres:17' },
      },
    }) as { services: Record<string, { volumes?: string[]; networks?: string[] }> };
    expect(merged.services.db!.volumes).toEqual([
      'data:/var/lib/postgresql/data',
      './y.sql:/docker-entrypoint-initdb.d/x.sql:ro',
      './z.sql:/docker-entrypoint-initdb.d/z.sql:ro',
    ]);
    expect(merged.services.db!.networks).toEqual(['one', 'two']);
    expect(Object.keys(merged.services)).toEqual(['db', 'setup']);
  });
});
