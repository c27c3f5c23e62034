import { describe, expect, it } from 'vitest';
import { ControlPlaneClient } from '../src/client.js';

describe('ControlPlaneClient token', () => {
  it.each([
    ['a newline', 'sekrit-1234\n'],
    ['a space', 'sekrit 1234'],
    ['non-ASCII', 'sekrit-1234é'],
  ])('refuses a token with %s without quoting it', async (_, token) => {
    let message = '';
    try {
      const client = new ControlPlaneClient({ address: '127.0.0.1:1', token });
      try {
        await client.lag.getLag({}, { deadlineMs: 200 });
      } finally {
        client.close();
      }
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^token: /);
    expect(message).not.toContain('sekrit');
  });
});
