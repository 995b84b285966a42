/**
 * Sessions over several devices (issue 11): a device_session takes every device its steps name
 * at its start, in one canonical order, so two sessions naming k1 and k2 in opposite orders run
 * one after the other instead of deadlocking; a device that cannot be known at the session's
 * start is a spec error. (Arrival order and flashing without the orchestrator: device-access.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { type Spec, type Step } from '../../workflows/contracts/spec';
import { useDeviceBed } from '../fixtures/device/bed';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';

const bed = useDeviceBed({ boards: [{ id: 'k1' }, { id: 'k2' }] });

/** The console lines a board answered, in order. */
const commandsOn = (id: string): string[] =>
  bed
    .rig(id)
    .events()
    .flatMap((e) => (e.event === 'command' ? [String(e.line)] : []));

/** A `pattern <name>` command, on `device` or (without it) on its session's device. */
const pattern = (id: string, name: string, device?: string): Step => ({
  id,
  kind: 'device_command',
  ...(device && { device }),
  send: `pattern ${name}`,
  expect: `^PATTERN ${name} OK`,
});

/** A session on `own` whose steps also use `other`: alone, or through a nested session. */
function crossing(tag: string, own: string, other: string, nested: boolean): Spec {
  const first = pattern(`${tag}-own`, `${tag}-${own}`);
  const second: Step = nested
    ? {
        id: `${tag}-inner`,
        kind: 'device_session',
        device: other,
        steps: [pattern(`${tag}-other`, `${tag}-${other}`)],
      }
    : pattern(`${tag}-other`, `${tag}-${other}`, other);
  return {
    name: `crossing-${tag}`,
    steps: [
      {
        id: `${tag}-session`,
        kind: 'device_session',
        device: own,
        // The pause keeps both devices held long enough for the lock views to show who waits.
        steps: [first, { id: `${tag}-pause`, kind: 'sleep', duration: '2s' }, second],
      },
    ],
  };
}

for (const nested of [false, true]) {
  test(`two sessions over k1 and k2 in opposite orders both finish, one after the other (${nested ? 'nested session' : 'lone command'})`, async () => {
    const a = nested ? 'na' : 'a';
    const b = nested ? 'nb' : 'b';
    const [runA, runB] = await Promise.all([
      bed.orch.start(crossing(a, 'k1', 'k2', nested)),
      bed.orch.start(crossing(b, 'k2', 'k1', nested)),
    ]);
    const owner = (w: string) => (w === runA.workflowId ? a : b);

    // While one run holds both boards, the other holds neither and waits at the first in order.
    const seen = await waitFor('one run to hold both boards while the other waits for k1', async () => {
      const [v1, v2] = await Promise.all([bed.lockView('k1'), bed.lockView('k2')]);
      const holder = v1.holder?.workflowId;
      if (!holder || v2.holder?.workflowId !== holder) return undefined;
      const waiter = v1.waiting[0]?.workflowId;
      return waiter && waiter !== holder ? { holder, waiter, v2 } : undefined;
    });
    assert.equal(seen.v2.waiting.length, 0, 'the waiting run waits for k1 only, holding nothing');

    const [ra, rb] = await Promise.all([runA.result(), runB.result()]);
    for (const [tag, r] of [
      [a, ra],
      [b, rb],
    ] as const) {
      assert.deepEqual((r.steps[`${tag}-session`]?.output as { devices?: string[] }).devices, ['k1', 'k2']);
    }

    // Each board answered the first run's command, then the second's: the holder went first on both.
    const [firstTag, secondTag] = [owner(seen.holder), owner(seen.waiter)];
    const ours = (id: string) => commandsOn(id).filter((l) => new RegExp(`^pattern (${a}|${b})-`).test(l));
    assert.deepEqual(ours('k1'), [`pattern ${firstTag}-k1`, `pattern ${secondTag}-k1`]);
    assert.deepEqual(ours('k2'), [`pattern ${firstTag}-k2`, `pattern ${secondTag}-k2`]);
  });
}

test('a session step whose device is known only after the session starts fails the run as InvalidSpec', async () => {
  const run = await bed.orch.start({
    name: 'late-device',
    steps: [
      {
        id: 'session',
        kind: 'device_session',
        device: 'k1',
        steps: [
          { id: 'pick', kind: 'activity', activity: 'test.echo', args: { id: 'k2' } },
          pattern('use', 'pick', '${steps.pick.output.id}'),
        ],
      },
    ],
  });
  await assert.rejects(run.result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      failureChain(err),
      /InvalidSpec: step "session": the device of its step "use" must be known when the session starts/,
    );
    return true;
  });
  const { events } = await run.fetchHistory();
  const scheduled = (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  assert.ok(!scheduled.includes('acquireDevice'), `no device was asked for (scheduled: ${scheduled.join(', ')})`);
  assert.ok(![...commandsOn('k1'), ...commandsOn('k2')].includes('pattern pick'));
});
