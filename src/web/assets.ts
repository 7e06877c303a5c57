import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * The pages' CSS and scripts, served from files (the CSP allows no inline script or style), each
 * under a URL carrying its content hash, so a browser keeps it for a year and a new version is a
 * new URL. Read once at start: a handful of small files.
 */

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  hash: string;
}

// Compiled code runs from dist/web, the sources from src/web: the files stay in src/web/assets.
const ASSET_DIRS = [path.join(__dirname, 'assets'), path.resolve(__dirname, '../../src/web/assets')];

function ownFile(name: string): string {
  for (const dir of ASSET_DIRS) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new Error(`web asset ${name} is missing from ${ASSET_DIRS.join(' and ')}`);
}

const SOURCES: Record<string, { file: () => string; type: string }> = {
  'style.css': { file: () => ownFile('style.css'), type: 'text/css; charset=utf-8' },
  'live.js': { file: () => ownFile('live.js'), type: 'text/javascript; charset=utf-8' },
  'chart.js': { file: () => ownFile('chart.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.js': { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};
export type AssetName = keyof typeof SOURCES;

let loaded: Map<string, Asset> | undefined;

function assets(): Map<string, Asset> {
  if (loaded === undefined) {
    loaded = new Map();
    for (const [name, src] of Object.entries(SOURCES)) {
      const body = readFileSync(src.file());
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      loaded.set(name, { body, type: src.type, hash, etag: `"${hash}"` });
    }
  }
  return loaded;
}

/** The URL of an asset, with its content hash. */
export function assetUrl(name: AssetName): string {
  return `/assets/${name}?v=${assets().get(name)!.hash}`;
}

export function registerAssets(app: FastifyInstance): void {
  assets();
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets().get(request.params.name);
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset');
    void reply.header('etag', asset.etag).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });
}
