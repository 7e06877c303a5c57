import { Agent, request } from 'node:http';

export interface SentResponse {
  status: number;
  body: string;
}

/**
 * The benchmarks' HTTP client: node's own, over kept-alive connections (one per concurrent
 * sender). It shares the machine's cores with the gateway it measures, so it should cost as
 * little as a load generator does; `fetch` (undici) spends about twice its CPU per request.
 */
export function createSender(base: string, sockets: number): { send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<SentResponse>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const url = new URL(base);
  return {
    send(method, path, headers, body) {
      return new Promise((resolve, reject) => {
        const req = request(
          { agent, host: url.hostname, port: url.port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.byteLength) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
