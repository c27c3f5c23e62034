import { deadLetterTopic, invalidationTopic } from '@fabric/contracts';
import { UsageError } from '../usage.js';
import { dlqList } from './dlq-ls.js';
import { dlqReplay } from './dlq-replay.js';
import { dlqResolve } from './dlq-resolve.js';

export const DLQ_HELP = `Usage: fabric dlq <ls|replay|resolve> [options]

Dead letters: events a region's reader or invalidator could not handle, kept in the
region's DLQ topic (${deadLetterTopic(invalidationTopic('<region>'))}) with the reason.

  ls        List dead letters (paged, filters); fabric dlq ls --help
  replay    Publish their original events to the region's topic again (admin token);
            fabric dlq replay --help
  resolve   Close dead letters no replay can fix, with a note (admin token);
            fabric dlq resolve --help
`;

export async function dlq(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(DLQ_HELP);
    return sub ? 0 : 2;
  }
  if (sub === 'ls') return dlqList(rest);
  if (sub === 'replay') return dlqReplay(rest);
  if (sub === 'resolve') return dlqResolve(rest);
  throw new UsageError(`unknown dlq command "${sub}"; run fabric dlq --help`);
}
