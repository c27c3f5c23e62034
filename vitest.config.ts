import { configDefaults, defineConfig } from 'vitest/config';

// What the integration project's global setup starts the regions' services with,
// FABRIC_TEST_BACKEND: `sandbox` (default), local processes; `containers`, the services of
// docker-compose.regions.yml through testcontainers. Both provide the same `endpoints`.
const BACKENDS: Record<string, string> = {
  sandbox: 'test/setup/global-sandbox.ts',
  containers: 'test/setup/global-containers.ts',
};
const backend = process.env.FABRIC_TEST_BACKEND || 'sandbox';
const globalSetup = BACKENDS[backend];
if (!globalSetup) {
  throw new Error(`FABRIC_TEST_BACKEND: must be ${Object.keys(BACKENDS).join(' or ')}, got ${JSON.stringify(backend)}`);
}

// Three projects: `unit` covers pure logic inside each package (no services); `integration`
// runs against the real services (PostgreSQL, Kafka, Redis) that its global setup starts;
// `containers` brings up docker-compose.regions.yml itself (scripts/containers.sh), so it
// needs no global setup and runs on its own, after the others.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/containers/**'],
          environment: 'node',
          globalSetup: [globalSetup],
          setupFiles: ['test/setup/kafkajs.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'containers',
          include: ['test/containers/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          // Bringing up three regions' databases, brokers and workers, and taking them down.
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
