import { describe, expect, it } from 'vitest';
import {
  deadLetterTopic,
  identifierError,
  invalidationTopic,
  invalidatorGroup,
  READER_PUBLICATION,
  READER_SLOT,
  regionIdent,
  replayLedgerTopic,
  subscriptionName,
} from '../src/index.js';

// The literal names are what operators, dashboards, compose and Helm know; they must not drift.
describe('names derived from a region', () => {
  it('names the Kafka topics and the invalidator group', () => {
    expect(invalidationTopic('eu-west')).toBe('fabric.inval.eu-west');
    expect(deadLetterTopic(invalidationTopic('eu-west'))).toBe('fabric.inval.eu-west.dlq');
    expect(replayLedgerTopic('fabric.inval.eu-west.dlq')).toBe('fabric.inval.eu-west.dlq.replayed');
    expect(invalidatorGroup('eu-west')).toBe('fabric-invalidator-eu-west');
  });

  it('names the PostgreSQL objects', () => {
    expect([READER_SLOT, READER_PUBLICATION]).toEqual(['fabric_cdc', 'fabric_cdc']);
    expect(regionIdent('ap-south-2')).toBe('ap_south_2');
    expect(subscriptionName('ap-south-2')).toBe('fabric_sub_ap_south_2');
  });

  it('accepts only lowercase unquoted identifiers, the derived names included', () => {
    for (const name of [READER_SLOT, subscriptionName('ap-south-2'), '_x', 'a'.repeat(63)])
      expect(identifierError(name)).toBeUndefined();
    for (const name of ['Bad-Slot', 'fabric-cdc', '1slot', '', 'a'.repeat(64)])
      expect(identifierError(name)).toBe(`"${name}" must be a lowercase identifier`);
  });
});
