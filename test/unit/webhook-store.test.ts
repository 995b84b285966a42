/**
 * Webhook subscriptions at the edge and on disk: the body schema names the bad field (URL
 * scheme, credentials, fragment, event types, retry bounds); the file store keeps subscriptions
 * across instances, skips a damaged file (logged once) and gives runs their targets without
 * anything secret.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createWebhookBodySchema } from '../../api/webhooks/webhook-requests';
import { WebhookStore } from '../../api/webhooks/webhook-store';
import { zodIssues } from '../../workflows/spec/schema';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'webhook-store-'));
  dirs.push(dir);
  return dir;
}

function issuesOf(body: unknown): Array<{ path: string; message: string }> {
  const parsed = createWebhookBodySchema.safeParse(body);
  return parsed.success ? [] : zodIssues(parsed.error, '');
}

const ok = { url: 'https://hooks.example.com/agents?team=a', events: ['approval.requested'] };

test('a subscription body is checked field by field', () => {
  assert.deepEqual(issuesOf(ok), []);
  assert.deepEqual(issuesOf({ ...ok, url: 'http://127.0.0.1:9000/x', spec: 'release', linksFor: 'ana' }), []);
  const cases: Array<[unknown, string, RegExp]> = [
    [{ ...ok, url: 'ftp://hooks.example.com/x' }, 'url', /http or https/],
    [{ ...ok, url: 'https://user:pw@hooks.example.com/' }, 'url', /credentials/],
    [{ ...ok, url: 'https://hooks.example.com/#frag' }, 'url', /fragment/],
    [{ ...ok, url: 'hooks.example.com/x' }, 'url', /absolute http\(s\) URL/],
    [{ ...ok, url: `https://hooks.example.com/${'x'.repeat(2100)}` }, 'url', /at most 2048/],
    [{ ...ok, events: [] }, 'events', /at least one/],
    [{ ...ok, events: ['step.started'] }, 'events[0]', /./],
    [{ ...ok, spec: '../etc' }, 'spec', /./],
    [{ ...ok, linksFor: 'two words' }, 'linksFor', /without spaces/],
    [{ ...ok, retry: { initialInterval: '10ms' } }, 'retry.initialInterval', /100ms to 1h/],
    [{ ...ok, retry: { maxAttempts: 0 } }, 'retry.maxAttempts', /./],
    [{ ...ok, secret: 'mine' }, 'secret', /unknown field/],
  ];
  for (const [body, field, message] of cases) {
    const issues = issuesOf(body);
    assert.ok(
      issues.some((i) => i.path === field && message.test(i.message)),
      `${JSON.stringify(body).slice(0, 80)}: expected an issue at "${field}", got ${JSON.stringify(issues)}`,
    );
  }
  // Repeated event types are kept once.
  const parsed = createWebhookBodySchema.parse({ ...ok, events: ['run.started', 'run.started'] });
  assert.deepEqual(parsed.events, ['run.started']);
});

test('subscriptions survive a new store instance; a damaged file is skipped and logged once', async () => {
  const dir = await tempDir();
  const warnings: string[] = [];
  const store = new WebhookStore(dir, { warn: (m) => warnings.push(m) });
  const all = await store.create({ url: 'https://a.example/hook', events: ['run.started'], createdBy: 'admin' });
  const release = await store.create({
    url: 'https://b.example/hook',
    events: ['approval.requested', 'run.finished'],
    spec: 'release',
    linksFor: 'ana',
    retry: { initialIntervalMs: 200, maxAttempts: 5 },
    createdBy: 'admin',
  });
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [`${all.id}.json`, `${release.id}.json`].sort(),
    'no temp file is left behind',
  );

  await writeFile(path.join(dir, '00000000-0000-4000-8000-000000000000.json'), '{ "id": "not-this-one"');
  await writeFile(path.join(dir, 'notes.txt'), 'not a subscription');
  const reopened = new WebhookStore(dir, { warn: (m) => warnings.push(m) });
  // Oldest first; two made in the same millisecond may come in either order.
  assert.deepEqual((await reopened.list()).map((s) => s.id).sort(), [all.id, release.id].sort());
  await reopened.list();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /00000000-0000-4000-8000-000000000000\.json: not valid JSON/);
  assert.deepEqual(await reopened.get(release.id), release);
  assert.equal(await reopened.get('../../etc/passwd'), undefined);

  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  assert.deepEqual(
    (await reopened.targetsFor('release')).sort(byId),
    [
      { id: all.id, url: 'https://a.example/hook', events: ['run.started'] },
      {
        id: release.id,
        url: 'https://b.example/hook',
        events: ['approval.requested', 'run.finished'],
        linksFor: 'ana',
        retry: { initialIntervalMs: 200, maxAttempts: 5 },
      },
    ].sort(byId),
  );
  assert.deepEqual(
    (await reopened.targetsFor('other')).map((t) => t.id),
    [all.id],
  );

  assert.equal(await reopened.delete(all.id), true);
  assert.equal(await reopened.delete(all.id), false);
  assert.deepEqual(
    (await store.list()).map((s) => s.id),
    [release.id],
  );
});
