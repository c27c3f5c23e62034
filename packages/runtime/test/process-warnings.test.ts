import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { routeProcessWarnings } from '../src/process-warnings.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({}, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

describe('routeProcessWarnings', () => {
  it("logs process warnings and drops only kafkajs's negative throttle timer", () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process;
    proc.on('warning', () => {
      throw new Error('the default printer must be replaced');
    });
    const { logger, lines } = capture();
    routeProcessWarnings(logger, proc);
    const negative = Object.assign(new Error('-1796121224254 is a negative number.'), {
      name: 'TimeoutNegativeWarning',
    });
    proc.emit('warning', negative);
    const deprecation = Object.assign(new Error('Setting the TLS ServerName to an IP address is not permitted'), {
      name: 'DeprecationWarning',
    });
    proc.emit('warning', deprecation);
    expect(lines.map((l) => [l.level, l.warning, l.msg])).toEqual([
      [40, 'DeprecationWarning', 'Setting the TLS ServerName to an IP address is not permitted'],
    ]);
  });
});
