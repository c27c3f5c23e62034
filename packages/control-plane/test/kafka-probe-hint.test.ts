import { KafkaJSConnectionClosedError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { probeTopicOffsets } from '../src/probes/kafka.js';
import type { RegionKafka } from '../src/region-kafka.js';

/** A region's Kafka whose every admin call fails as a SASL listener answers a client without credentials. */
function refusingKafka(security: RegionKafka['security']): RegionKafka {
  const closed = new KafkaJSConnectionClosedError('Closed connection', { host: 'kafka', port: 9093 });
  return {
    security,
    at: 'regions[1]',
    admin: async () => {
      throw new KafkaJSNumberOfRetriesExceeded(closed, { retryCount: 2, retryTime: 400 });
    },
  } as unknown as RegionKafka;
}

describe('the Kafka probe of a region whose brokers refuse the control plane', () => {
  it("names the region's kafkaTls and kafkaSasl fields, and keeps what Kafka said", async () => {
    const observed = await probeTopicOffsets(refusingKafka({}), 'fabric.inval.eu-west', 'g');
    expect(observed).toEqual({
      status: 'unreachable',
      detail: expect.stringMatching(
        /TLS \(regions\[1\]\.kafkaTls\) or SASL \(regions\[1\]\.kafkaSasl\).*Closed connection\)$/,
      ),
    });
  });

  it('says only what Kafka said when the region already has TLS and SASL (an outage)', async () => {
    const observed = await probeTopicOffsets(
      refusingKafka({ tls: {}, sasl: { mechanism: 'scram-sha-512', username: 'cp', password: 'pw' } }),
      'fabric.inval.eu-west',
      'g',
    );
    expect(observed).toEqual({ status: 'unreachable', detail: 'Closed connection' });
  });
});
