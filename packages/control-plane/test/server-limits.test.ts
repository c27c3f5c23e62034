import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, grpcServerOptions, parseServerLimits } from '../src/server-limits.js';

describe('parseServerLimits', () => {
  it('takes the defaults for what is not given', () => {
    expect(parseServerLimits('limits', undefined)).toEqual(DEFAULT_LIMITS);
    expect(parseServerLimits('limits', { maxConcurrentScans: 2 })).toEqual({
      ...DEFAULT_LIMITS,
      maxConcurrentScans: 2,
    });
  });

  it.each([
    [[], 'limits: must be an object'],
    [{ maxSendBytes: 1 }, 'limits.maxSendBytes: unknown limit; known: maxReceiveMessageBytes'],
    [
      { maxReceiveMessageBytes: 10 },
      'limits.maxReceiveMessageBytes: must be an integer from 65536 to 67108864, got 10',
    ],
    [{ maxConcurrentStreams: 1.5 }, 'limits.maxConcurrentStreams: must be an integer from 1 to 10000, got 1.5'],
    [{ maxConcurrentScans: '4' }, 'limits.maxConcurrentScans: must be an integer from 1 to 64, got "4"'],
  ])('%j is refused naming the field', (raw, message) => {
    expect(() => parseServerLimits('limits', raw)).toThrow(message);
  });

  it('hands grpc-js its option names', () => {
    expect(grpcServerOptions(DEFAULT_LIMITS)).toEqual({
      'grpc.max_receive_message_length': 2 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      'grpc.max_concurrent_streams': 100,
    });
  });
});
