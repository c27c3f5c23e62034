import type { Lsn } from '@fabric/contracts';
import { PgoutputDecoder } from './decoder.js';
import { KeepaliveGate } from './keepalive-gate.js';
import type { PgoutputMessage } from './messages.js';
import { toError } from './promises.js';
import type { StandbyStatus } from './standby-status.js';

export type MessageHandler = (lsn: Lsn, msg: PgoutputMessage) => Promise<void> | void;

/** An XLogData payload after decoding; a decode error is carried, not thrown. */
export type Parsed = { ok: true; msg: PgoutputMessage } | { ok: false; error: Error };

export interface InboundCounters {
  /** XLogData messages received / handled (handler resolved). */
  received: number;
  handled: number;
  /** Primary keepalives received, and how many of them requested a reply. */
  keepalives: number;
  replyRequests: number;
}

export interface InboundDeps {
  handler: MessageHandler;
  /** Learns every position the server shows. */
  status: StandbyStatus;
  /** False once the stream is stopping or failed: nothing more is handled. */
  active(): boolean;
  /** The server asked for a status update now. */
  reply(): void;
  fail(err: Error): void;
  onKeepalive?: (walEnd: Lsn) => void;
}

/**
 * What the server sends, delivered in order: each XLogData decoded and awaited in the
 * handler (the next one waits, by flow control), each keepalive's position recorded and,
 * once every message received before it is handled and outside a transaction, passed on.
 */
export class Inbound {
  private readonly decoder = new PgoutputDecoder();
  private readonly gate: KeepaliveGate;
  private current: Promise<unknown> | null = null;
  private keepaliveCount = 0;
  private replyCount = 0;

  constructor(private readonly deps: InboundDeps) {
    this.gate = new KeepaliveGate((walEnd) => {
      try {
        deps.onKeepalive?.(walEnd);
      } catch (err) {
        deps.fail(toError(err));
      }
    });
  }

  counters(): InboundCounters {
    return {
      received: this.gate.received,
      handled: this.gate.handled,
      keepalives: this.keepaliveCount,
      replyRequests: this.replyCount,
    };
  }

  /** The handler call in progress, if any. */
  get running(): Promise<unknown> | null {
    return this.current;
  }

  /** Runs in the socket's data event, in arrival order: counts, decodes, never throws. */
  parse(payload: Buffer): Parsed {
    this.gate.onReceived();
    try {
      return { ok: true, msg: this.decoder.decode(payload) };
    } catch (err) {
      return { ok: false, error: toError(err) };
    }
  }

  async data(lsn: Lsn, parsed: Parsed): Promise<void> {
    const { deps } = this;
    if (!deps.active()) return; // stopping or failed: nothing after this is handled
    if (!parsed.ok) {
      deps.fail(parsed.error);
      return;
    }
    const msg = parsed.msg;
    deps.status.see(lsn);
    if (msg.tag === 'commit') deps.status.see(msg.endLsn);
    try {
      const p = Promise.resolve(deps.handler(lsn, msg));
      this.current = p;
      await p;
    } catch (err) {
      deps.fail(toError(err));
      return;
    } finally {
      this.current = null;
    }
    if (deps.active()) this.gate.onHandled(msg.tag);
  }

  keepalive(walEnd: Lsn, replyRequested: boolean): void {
    const { deps } = this;
    if (!deps.active()) return;
    deps.status.see(walEnd);
    this.keepaliveCount++;
    if (replyRequested) {
      this.replyCount++;
      deps.reply();
    }
    if (deps.onKeepalive) this.gate.onKeepalive(walEnd);
  }
}
