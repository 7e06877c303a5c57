/**
 * A TCP forwarder on 127.0.0.1 in front of a real server (PostgreSQL, Temporal), to simulate the
 * server going away and coming back: it forwards bytes unchanged, so both sides speak their real
 * protocol; `down()` drops every connection and stops listening (new connections are refused),
 * `up()` listens again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpForwarder {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    readonly port: number,
  ) {}

  /** A forwarder to `host:port`; listening unless `down` is asked for. */
  static async open(target: string, opts: { down?: boolean } = {}): Promise<TcpForwarder> {
    const m = /^(.*):(\d+)$/.exec(target);
    if (!m) throw new Error(`expected host:port, got ${target}`);
    const probe = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const a = probe.address();
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const f = new TcpForwarder(m[1]!, Number(m[2]), port);
    if (!opts.down) await f.up();
    return f;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
