// Runs only the bench's own unit tests: npx vitest run --config bench/vitest.config.mjs
import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['bench/test/**/*.test.ts'], environment: 'node' } });
