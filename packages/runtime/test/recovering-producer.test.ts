import type { Producer } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { kafkaFailure } from '../src/kafka-errors.js';
import { RecoveringProducer } from '../src/recovering-producer.js';

const logger = pino({ level: 'silent' });

const protocolError = (type: string) =>
  Object.assign(new Error(type), {
    name: 'KafkaJSNonRetriableError',
    retriable: false,
    cause: Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: false }),
  });

/**
 * Scripted producers: producer n answers its sends from script[n] (an error type, or 'ok').
 * Like a broker that lost a producer's sequence: that producer is refused on every send.
 */
function scripted(script: string[][]) {
  const made: Array<{ id: number; connected: boolean; disconnected: boolean; sends: number }> = [];
  const create = (): Producer => {
    const id = made.length;
    const state = { id, connected: false, disconnected: false, sends: 0 };
    made.push(state);
    return {
      connect: async () => {
        state.connected = true;
      },
      disconnect: async () => {
        state.disconnected = true;
      },
      send: async () => {
        const answer = script[id]?.[state.sends++] ?? script[id]?.at(-1) ?? 'ok';
        if (answer !== 'ok') throw protocolError(answer);
        return [];
      },
    } as unknown as Producer;
  };
  return { made, create };
}

describe('RecoveringProducer', () => {
  it('recreates a producer refused with OUT_OF_ORDER_SEQUENCE_NUMBER and sends the batch with the new one', async () => {
    // Producer 0 is refused for ever (what kafkajs would retry into a loop); producer 1 is fine.
    const { made, create } = scripted([['OUT_OF_ORDER_SEQUENCE_NUMBER'], ['ok']]);
    const recreated: string[] = [];
    const producer = new RecoveringProducer({ create, logger, onRecreated: (t) => recreated.push(t) });
    await producer.connect();
    await producer.send((p) => p.send({ topic: 't', messages: [] }));
    expect(recreated).toEqual(['OUT_OF_ORDER_SEQUENCE_NUMBER']);
    expect(made.map((m) => [m.connected, m.disconnected, m.sends])).toEqual([
      [true, true, 1],
      [true, false, 1],
    ]);
    expect(producer.current).not.toBe(undefined);
    // Later sends go to the new producer only.
    await producer.send((p) => p.send({ topic: 't', messages: [] }));
    expect(made.map((m) => m.sends)).toEqual([1, 2]);
  });

  it('passes other failures through untouched, for the caller to retry or dead-letter', async () => {
    const { made, create } = scripted([['MESSAGE_TOO_LARGE', 'LEADER_NOT_AVAILABLE']]);
    const producer = new RecoveringProducer({ create, logger });
    await producer.connect();
    await expect(producer.send((p) => p.send({ topic: 't', messages: [] }))).rejects.toThrow('MESSAGE_TOO_LARGE');
    await expect(producer.send((p) => p.send({ topic: 't', messages: [] }))).rejects.toThrow('LEADER_NOT_AVAILABLE');
    expect(made).toHaveLength(1);
  });

  it('a replacement that fails its connect is connected again by the next send', async () => {
    const { made, create: base } = scripted([['UNKNOWN_PRODUCER_ID'], ['ok']]);
    let failConnect = 1;
    const create = (): Producer => {
      const p = base();
      const connect = p.connect.bind(p);
      if (made.length === 2)
        p.connect = async () => {
          if (failConnect-- > 0) throw new Error('broker down');
          await connect();
        };
      return p;
    };
    const producer = new RecoveringProducer({ create, logger });
    await producer.connect();
    await expect(producer.send((p) => p.send({ topic: 't', messages: [] }))).rejects.toThrow('broker down');
    await producer.send((p) => p.send({ topic: 't', messages: [] }));
    expect(made.map((m) => [m.connected, m.sends])).toEqual([
      [true, 1],
      [true, 1],
    ]);
  });
});

describe('kafkaFailure', () => {
  it('reads the broker error type through kafkajs wrappers', () => {
    expect(kafkaFailure(protocolError('MESSAGE_TOO_LARGE'))).toEqual({
      kind: 'record-refused',
      type: 'MESSAGE_TOO_LARGE',
    });
    expect(kafkaFailure(protocolError('INVALID_RECORD'))).toEqual({ kind: 'record-refused', type: 'INVALID_RECORD' });
    expect(kafkaFailure(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toEqual({
      kind: 'producer-state',
      type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    });
    expect(kafkaFailure(protocolError('NOT_LEADER_FOR_PARTITION')).kind).toBe('transient');
    expect(kafkaFailure(new Error('Connection timeout'))).toEqual({ kind: 'transient' });
  });
});
