/**
 * Device sessions: a run holds the board across several steps (upload, pattern test, metrics)
 * while others wait in line; a holder whose lease ran out cannot act any more, because the
 * device worker checks every action's fencing token against the lock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Spec } from '../../workflows/contracts/spec';
import { deviceQueueQuery, type DeviceCommandResult, type DeviceUploadResult } from '../../workflows/contracts/device';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage, startAwayHolder } from '../fixtures/device/harness';
import { waitFor } from '../helpers/journal';

const bed = useDeviceBed({ boards: [{ id: 'k1', rig: { blockDelayMs: 2 } }] });

test('a session holds the board for upload, pattern test and metrics; another run waits its turn', async () => {
  const mine = makeImage(24 * 1024);
  const theirs = makeImage(8 * 1024);
  const session: Spec = {
    name: 'pattern-test',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        steps: [
          { id: 'upload', kind: 'device_upload', artifact: mine.file },
          { id: 'settle', kind: 'sleep', duration: '3s' },
          {
            id: 'pattern',
            kind: 'device_command',
            send: 'pattern smoke',
            expect: '^PATTERN smoke OK fps=(?<fps>\\d+)',
          },
          { id: 'metrics', kind: 'device_command', send: 'metrics', expect: '^METRICS (?<json>\\{.*\\})$' },
        ],
      },
      { id: 'report', kind: 'activity', activity: 'test.echo', args: { fps: '${steps.pattern.output.groups.fps}' } },
    ],
  };
  const a = await bed.orch.start(session);
  await waitFor('the session to hold the device', async () =>
    (await a.query(deviceQueueQuery)).some((w) => w.state === 'holding'),
  );

  const b = await bed.orch.start({
    name: 'intruder',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: theirs.file }],
  });
  // B's upload waits in the device's line while the session holds the board: first in line.
  const waiting = await waitFor('the other run to queue', async () =>
    (await b.query(deviceQueueQuery)).find((w) => w.state === 'waiting'),
  );
  assert.equal(waiting.deviceId, 'k1');
  const next = await waitFor('the lock to list the other run', async () => (await bed.lockView()).waiting[0]);
  assert.equal(next.workflowId, b.workflowId);
  assert.equal(next.position, 1);

  const [ra, rb] = await Promise.all([a.result(), b.result()]);
  const up = ra.steps.upload?.output as DeviceUploadResult;
  assert.equal((ra.steps.pattern?.output as DeviceCommandResult).groups.fps, '150');
  assert.match((ra.steps.metrics?.output as DeviceCommandResult).groups.json ?? '', /"firmware":"[0-9a-f]{8}"/);
  assert.deepEqual(ra.steps.report?.output, { fps: '150' });

  // On the board: the session's upload, pattern and metrics, and only then the other upload.
  const seq = bed
    .rig()
    .events()
    .filter((e) => e.event === 'image' || e.event === 'command')
    .map((e) => (e.event === 'image' ? `image:${e.md5}` : `command:${e.line}`));
  const theirsMd5 = (rb.steps.upload?.output as DeviceUploadResult).md5;
  assert.deepEqual(seq.slice(-4), [
    `image:${up.md5}`,
    'command:pattern smoke',
    'command:metrics',
    `image:${theirsMd5}`,
  ]);
});

test('a holder whose lease expired cannot act: its next device action is refused by the fencing token', async () => {
  const spec: Spec = {
    name: 'stale-holder',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        lease: '2s',
        steps: [
          { id: 'first', kind: 'device_command', send: 'version', expect: '^FW ' },
          { id: 'think', kind: 'sleep', duration: '3s' },
          { id: 'second', kind: 'device_command', send: 'pattern stale', expect: '^PATTERN' },
        ],
      },
    ],
  };
  // The holder runs on an orchestrator of its own, stopped and started again below.
  const holder = await startAwayHolder(bed.env, spec);
  await waitFor('the holder to use the board', () =>
    bed
      .rig()
      .events()
      .some((e) => e.event === 'command' && e.line === 'version'),
  );
  const token = (await bed.lockView()).holder?.token;
  assert.ok(token);

  // The holder's workers go away: nobody renews its lease, so the lock hands the board on.
  await holder.leave();
  const other = await bed.orch.start({
    name: 'next-in-line',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: makeImage(4096).file }],
  });
  const otherResult = await other.result();
  assert.equal(otherResult.steps.upload?.status, 'completed');
  const view = await bed.lockView();
  assert.ok(view.stats.leasesExpired >= 1);
  assert.ok(view.nextToken > token + 1, 'a newer token was granted');

  // The holder comes back, unaware; its next action carries the stale token.
  assert.match(await holder.comeBack(), /fencing token \d+ (does not hold device "k1"|is older than token \d+)/);
  assert.ok(
    !bed
      .rig()
      .events()
      .some((e) => e.event === 'command' && e.line === 'pattern stale'),
    'the stale holder never reached the board',
  );
});
