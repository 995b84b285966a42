/**
 * The guard and decorators on a small Nest app of their own (no Temporal): class and method
 * roles, @Public, @CookieAuth with its same-site check, and @CurrentIdentity.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import 'reflect-metadata';
import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { AuthGuard, CookieAuth, CurrentIdentity, Public, RequireRole, SESSION_COOKIE } from '../../api/auth';
import { AUTH_OPTIONS } from '../../api/tokens';
import type { Identity } from '../../workflows/contracts/identity';
import { testAuth } from '../helpers/api-auth';

const auth = testAuth();

@Controller('things')
@RequireRole('operator')
class ThingsController {
  @Get()
  list(@CurrentIdentity() who: Identity): { user: string } {
    return { user: who.user };
  }

  @Post()
  @RequireRole('admin')
  create(): { ok: true } {
    return { ok: true };
  }

  @Get('open')
  @Public()
  open(@CurrentIdentity() who: Identity | undefined): { user: string | null } {
    return { user: who?.user ?? null };
  }

  @Get('page')
  @CookieAuth()
  page(@CurrentIdentity() who: Identity): { user: string } {
    return { user: who.user };
  }

  @Post('page')
  @CookieAuth()
  decide(@CurrentIdentity() who: Identity): { user: string } {
    return { user: who.user };
  }
}

@Module({
  controllers: [ThingsController],
  providers: [
    { provide: AUTH_OPTIONS, useValue: auth.auth },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
})
class ThingsModule {}

let app: INestApplication;
let base: string;

before(async () => {
  app = await NestFactory.create(ThingsModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
});
after(() => app?.close());

const get = async (route: string, headers: Record<string, string> = {}, method = 'GET') => {
  const res = await fetch(`${base}${route}`, { method, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const cookie = (user: 'admin' | 'viewer' | 'operator') => ({
  cookie: `theme=dark; ${SESSION_COOKIE}=${auth.tokens[user]}`,
});

test('a class role applies to every route; a method role overrides it; admin holds them all', async () => {
  assert.equal((await get('/things', auth.header('viewer'))).status, 403);
  assert.deepEqual((await get('/things', auth.header('operator'))).body, { user: 'operator' });
  assert.equal((await get('/things', auth.header('operator'), 'POST')).status, 403);
  assert.equal((await get('/things', auth.header('admin'), 'POST')).status, 201);
});

test('a public route needs no token, and still learns who calls when a valid one comes along', async () => {
  assert.deepEqual((await get('/things/open')).body, { user: null });
  assert.deepEqual((await get('/things/open', auth.header('viewer'))).body, { user: 'viewer' });
  assert.deepEqual((await get('/things/open', { authorization: 'Bearer wrong-token-here' })).body, { user: null });
});

test('the session cookie counts only where a route accepts it, and for writes only from this site', async () => {
  assert.equal((await get('/things', cookie('admin'))).status, 401, 'not a @CookieAuth route');
  assert.deepEqual((await get('/things/page', cookie('operator'))).body, { user: 'operator' });
  assert.equal((await get('/things/page', { ...cookie('operator'), authorization: 'Basic eA==' })).status, 401);

  const sameSite = await get('/things/page', { ...cookie('operator'), origin: base }, 'POST');
  assert.equal(sameSite.status, 201, JSON.stringify([base, sameSite.body]));
  const crossSite = await get('/things/page', { ...cookie('operator'), origin: 'https://evil.example' }, 'POST');
  assert.equal(crossSite.status, 403);
  assert.match(String(crossSite.body.message), /from this site/);
  // A bearer header is not sent by browsers on their own: no origin check for it.
  const bearer = { ...auth.header('operator'), origin: 'https://elsewhere.example' };
  assert.equal((await get('/things/page', bearer, 'POST')).status, 201);
});
