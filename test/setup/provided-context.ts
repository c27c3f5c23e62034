import type { SandboxEndpoints } from '@fabric/sandbox';
import type {} from 'vitest';

// What every integration global setup hands the suites, whichever backend started the
// services: the suites read `inject('endpoints')` and never know which one ran.
declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: SandboxEndpoints;
  }
}
