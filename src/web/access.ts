/**
 * PLACEHOLDER, replaced at merge by the access layer (login form, signed session cookie, read
 * tokens, public repositories, security headers). It keeps the agreed signatures and lets every
 * request through, so the pages can be built and tested on their own; depend only on these names.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Store } from '../storage/store';

/** A local path to go back to after logging in; anything else goes home. */
const NextPath = z
  .string()
  .regex(/^\/(?![/\\])/)
  .catch('/');

export async function registerWebAccess(app: FastifyInstance, _deps: { store: Store; sessionSecret: string; adminTokenHash: string }): Promise<void> {
  app.get('/login', async (request, reply) => {
    const next = NextPath.parse((request.query as { next?: unknown }).next);
    const escaped = next.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · Tributary</title></head><body><main><h1>Log in</h1>` +
          `<form method="post" action="/login"><input type="hidden" name="next" value="${escaped}">` +
          `<label for="token">Token</label> <input id="token" name="token" type="password" autocomplete="off" required> <button type="submit">Log in</button></form></main></body></html>`,
      );
  });
  app.post('/login', async (request, reply) => {
    const body = request.body;
    const next = NextPath.parse(typeof body === 'object' && body !== null ? (body as { next?: unknown }).next : undefined);
    return reply.code(303).header('location', next).send();
  });
}

/** preHandler for routes with :owner/:repo params (redirects to /login or answers 404 when denied). */
export async function repositoryPageAccess(_request: FastifyRequest, _reply: FastifyReply): Promise<void> {}

/** preHandler for operator pages (queue): admin session only. */
export async function operatorPageAccess(_request: FastifyRequest, _reply: FastifyReply): Promise<void> {}

/** Which repositories the request's session may see, for the home page list (public ones are added by you). */
export function visibleTo(_request: FastifyRequest): { all: true } | { all: false; slugs: string[] } {
  return { all: true };
}
