// A TCP proxy in front of Redis whose connections can be cut: every open connection is
// destroyed and new ones are refused for a window, as a network partition of one client
// would. Redis pub/sub delivers at most once, so what is published during the cut is lost
// to the clients behind the proxy; that is the fault the L1 staleness measurement injects.
import net from 'node:net';

export class TcpCut {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();
  private cutUntil = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Listens on an ephemeral port of 127.0.0.1; resolves to redis://127.0.0.1:<port>. */
  async start(): Promise<string> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    return `redis://127.0.0.1:${port}`;
  }

  private accept(client: net.Socket): void {
    if (this.now() < this.cutUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target);
    for (const s of [client, upstream]) {
      this.open.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Drops every connection now and refuses new ones for ms. */
  cut(ms: number): void {
    this.cutUntil = this.now() + ms;
    for (const s of this.open) s.destroy();
  }

  /** Connections currently proxied (both sides count). */
  get connections(): number {
    return this.open.size;
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
