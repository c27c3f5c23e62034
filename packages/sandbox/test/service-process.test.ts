import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ServiceProcess } from '../src/service-process.js';

describe('ServiceProcess.stop', () => {
  it('survives output that arrives after the service exited (a child of it still holds the pipe)', async () => {
    const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'service-log-')), 'svc.log');
    const errors: unknown[] = [];
    const onError = (err: unknown) => errors.push(err);
    process.on('uncaughtException', onError);
    try {
      // The shell's own child writes after the shell is gone, as a server's workers may.
      const service = ServiceProcess.start(
        {
          name: 'test service',
          command: '/bin/sh',
          args: ['-c', 'echo first; (sleep 0.3; echo late; sleep 1.2; echo later) & exec sleep 30'],
          logFile,
          stopSignal: 'SIGTERM',
          setpriv: '/usr/bin/setpriv',
        },
        pino({ level: 'silent' }),
      );
      await sleep(100);
      await service.stop(5_000);
      await sleep(2_000);
      expect(errors).toEqual([]);
      expect(readFileSync(logFile, 'utf8')).toContain('first');
      expect(readFileSync(logFile, 'utf8')).toContain('late');
    } finally {
      process.off('uncaughtException', onError);
    }
  });
});
