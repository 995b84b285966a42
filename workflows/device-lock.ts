/**
 * One long-lived workflow per device (`device-lock.<deviceId>`) on the device's own task queue,
 * started by the device's worker (or by the first request, with start): a first-come-first-served
 * line of runs that want the board, one holder at a time. Every device action and session joins
 * it with the `deviceAcquire` update, which returns the grant when it is the request's turn; runs
 * recorded before that joined by signal and still get their grant by signal.
 * Each grant carries a fencing token that only grows; the device worker refuses any action
 * whose token is not the current, unexpired holder's. A holder keeps its lease by renewing;
 * one that stops (terminated run, workers down) loses the device when the lease runs out.
 *
 * It continues as new every `grantsPerRun` grants, past `maxHistoryEvents` events, or when
 * Temporal suggests it, carrying its queue (in order), its holder with its token and lease, the
 * next token and the describe requests not yet answered: so no execution's history grows
 * without bound, and nothing a run relies on changes across it.
 */
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEVICE_SETTINGS_MEMO,
  deviceAcquireUpdate,
  deviceGrantedSignal,
  deviceLeaseRevokedSignal,
  deviceLockAcquireSignal,
  deviceLockActionStartedSignal,
  deviceLockConfigureSignal,
  deviceLockDescribeSignal,
  deviceLockReleaseSignal,
  deviceLockRenewSignal,
  deviceLockReportSignal,
  deviceLockStateQuery,
  deviceLockWithdrawSignal,
  deviceQueuePositionSignal,
  deviceSettingsSignal,
  deviceTaskQueue,
  type AcquireReply,
  type AcquireRequest,
  type ActionOutcome,
  type CurrentAction,
  type DeviceLockView,
  type DeviceSettings,
  type DeviceLockStart,
  type DeviceStats,
  type Grant,
} from './contracts/device';

interface Waiter extends AcquireRequest {
  enqueuedAt: string;
  /** 'update': waits in a deviceAcquire update; absent: a run recorded before it, told by signal. */
  via?: 'update';
}

interface Holder extends Waiter {
  token: number;
  grantedAt: string;
  leaseMs: number;
  leaseExpiresAt: number;
}

export interface DeviceLockState {
  settings?: DeviceSettings;
  holder?: Holder;
  waiting: Waiter[];
  nextToken: number;
  lastResult?: ActionOutcome;
  current?: CurrentAction;
  stats: DeviceStats;
  /** Runs that asked for the settings before the device's worker gave them. */
  describeRequests?: Array<{ requestId: string; workflowId: string }>;
  /** Requests given up before the lock took them: refused if they arrive (the newest few hundred). */
  refused?: string[];
}

export interface DeviceLockInput extends DeviceLockStart {
  /** Carried across continue-as-new. */
  state?: DeviceLockState;
  /** Continue as new beyond this many history events (default 5,000), besides when Temporal suggests it. */
  maxHistoryEvents?: number;
  /** Continue as new after this many grants (default 200). */
  grantsPerRun?: number;
}

/** Waiters hear their position at most this often: a long queue must not flood them with signals. */
const POSITION_BROADCAST_MS = 1000;
/** Before BOUNDED_LOCK_PATCH: continue as new past 10,000 events, which ended runs just over the 10,000 mark. */
const LEGACY_MAX_HISTORY_EVENTS = 10_000;
const MAX_HISTORY_EVENTS = 5_000;
const GRANTS_PER_RUN = 200;
/** Runs before it continued as new only past 10,000 events (or when Temporal suggested it). */
export const BOUNDED_LOCK_PATCH = 'device-lock-bounded-runs';
/** Locks before it ran on the orchestrator's task queue: they move to the device's own queue. */
export const OWN_QUEUE_PATCH = 'device-lock-own-queue';
/** Locks before it did not keep their settings in their memo. */
export const SETTINGS_MEMO_PATCH = 'device-lock-settings-memo';
const REFUSED_KEPT = 256;

const emptyStats = (): DeviceStats => ({
  uploads: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  uploadMsTotal: 0,
  grants: 0,
  leasesExpired: 0,
});

export async function deviceLock(input: DeviceLockInput): Promise<void> {
  // Tokens start at the lock's start time (ms): a lock re-created after a reset never reissues an old token.
  const s: DeviceLockState = input.state ?? {
    waiting: [],
    nextToken: workflowInfo().startTime.getTime(),
    stats: emptyStats(),
    ...(input.settings && { settings: input.settings }),
  };
  const ownQueue = deviceTaskQueue(input.deviceId);
  const refused = new Set(s.refused ?? []);
  delete s.refused;
  /** Set before continuing as new: waiting updates return, to be sent again to the next run. */
  let draining = false;
  const bounded = patched(BOUNDED_LOCK_PATCH);
  const maxEvents = input.maxHistoryEvents ?? (bounded ? MAX_HISTORY_EVENTS : LEGACY_MAX_HISTORY_EVENTS);
  const grantsPerRun = bounded ? (input.grantsPerRun ?? GRANTS_PER_RUN) : Infinity;
  let grantsHere = 0;
  let changed = false;
  let positionsDirty = s.waiting.length > 0;
  let lastBroadcast = 0;
  const inFlight = new Set<Promise<unknown>>();
  const touch = () => (changed = true);

  /** Signals to runs are best effort: a run that has gone away simply does not hear. */
  const tell = (
    workflowId: string,
    send: (h: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>,
  ): Promise<boolean> => {
    const p = send(getExternalWorkflowHandle(workflowId)).then(
      () => true,
      () => false,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };

  const describeRequests: Array<{ requestId: string; workflowId: string }> = s.describeRequests ?? [];
  delete s.describeRequests;
  const answerDescribes = (settings: DeviceSettings) => {
    for (const r of describeRequests.splice(0))
      void tell(r.workflowId, (h) => h.signal(deviceSettingsSignal, { requestId: r.requestId, settings }));
  };

  setHandler(deviceLockConfigureSignal, (settings) => {
    s.settings = settings;
    answerDescribes(settings);
    if (patched(SETTINGS_MEMO_PATCH)) upsertMemo({ [DEVICE_SETTINGS_MEMO]: settings });
    touch();
  });
  setHandler(deviceLockDescribeSignal, (req) => {
    describeRequests.push(req);
    if (s.settings) answerDescribes(s.settings);
  });
  setHandler(deviceLockAcquireSignal, (req) => {
    if (s.holder?.requestId === req.requestId || s.waiting.some((w) => w.requestId === req.requestId)) return;
    s.waiting.push({ ...req, enqueuedAt: new Date().toISOString() });
    positionsDirty = true;
    touch();
  });
  const record = (outcome: ActionOutcome) => {
    s.lastResult = outcome;
    if (s.current?.workflowId === outcome.workflowId && s.current.stepPath === outcome.stepPath) s.current = undefined;
    if (outcome.kind !== 'upload') return;
    s.stats.uploads++;
    if (outcome.status === 'completed') {
      s.stats.succeeded++;
      s.stats.uploadMsTotal += outcome.durationMs;
    } else if (outcome.status === 'failed') s.stats.failed++;
    else s.stats.skipped++;
  };

  setHandler(deviceLockReleaseSignal, ({ requestId, token, outcome }) => {
    if (outcome) record(outcome);
    if (s.holder?.requestId === requestId && s.holder.token === token) {
      s.holder = undefined;
      touch();
    }
  });
  setHandler(deviceLockRenewSignal, ({ requestId, token }) => {
    if (s.holder?.requestId === requestId && s.holder.token === token) {
      s.holder.leaseExpiresAt = Date.now() + s.holder.leaseMs;
      touch();
    }
  });
  const isHolder = (requestId: string) => s.holder?.requestId === requestId;
  const isWaiting = (requestId: string) => s.waiting.some((w) => w.requestId === requestId);
  const grantOf = (h: Holder): Grant => ({
    requestId: h.requestId,
    token: h.token,
    leaseMs: h.leaseMs,
    settings: s.settings as DeviceSettings,
  });
  /** The first in line becomes the holder, with the next token. */
  const grantFirst = (settings: DeviceSettings): Holder => {
    const next = s.waiting.shift() as Waiter;
    positionsDirty = true;
    const leaseMs = next.leaseMs ?? settings.leaseMs;
    const holder: Holder = {
      ...next,
      token: s.nextToken++,
      grantedAt: new Date().toISOString(),
      leaseMs,
      leaseExpiresAt: Date.now() + leaseMs,
    };
    s.holder = holder;
    s.stats.grants++;
    grantsHere++;
    return holder;
  };

  setHandler(
    deviceAcquireUpdate,
    async (req): Promise<AcquireReply> => {
      const { requestId } = req;
      if (!isHolder(requestId) && !isWaiting(requestId)) {
        const { workflowId, stepPath, leaseMs } = req;
        s.waiting.push({
          requestId,
          workflowId,
          stepPath,
          leaseMs,
          via: 'update',
          enqueuedAt: new Date().toISOString(),
        });
        positionsDirty = true;
        touch();
        // A free device is granted in the same answer: one update for a request nobody is ahead of.
        if (!s.holder && s.settings && s.waiting.length === 1) grantFirst(s.settings);
      }
      if (req.waitMs && !isHolder(requestId)) {
        // Until its turn, it leaves the line, or the lock moves on to its next run (the line goes with it).
        await condition(() => isHolder(requestId) || !isWaiting(requestId) || draining, req.waitMs);
      }
      if (s.holder && isHolder(requestId)) return { grant: grantOf(s.holder) };
      const at = s.waiting.findIndex((w) => w.requestId === requestId);
      return at < 0 ? { gone: true } : { position: at + 1, waiting: s.waiting.length };
    },
    {
      validator: (req) => {
        if (refused.has(req.requestId)) throw new Error(`request ${req.requestId} was given up before it arrived`);
        if (!req.requestId || !req.workflowId || !req.stepPath) {
          throw new Error('requestId, workflowId and stepPath are required');
        }
      },
    },
  );

  setHandler(deviceLockWithdrawSignal, ({ requestId, refuseLater }) => {
    // A request by update withdrawn after its grant: its run never got the device, so it is free again.
    if (s.holder?.requestId === requestId && s.holder.via === 'update') {
      s.holder = undefined;
      touch();
      return;
    }
    if (refuseLater) {
      refused.add(requestId);
      if (refused.size > REFUSED_KEPT) refused.delete(refused.values().next().value as string);
    }
    const before = s.waiting.length;
    s.waiting = s.waiting.filter((w) => w.requestId !== requestId);
    if (s.waiting.length !== before) {
      positionsDirty = true;
      touch();
    }
  });
  setHandler(deviceLockReportSignal, record);
  setHandler(deviceLockActionStartedSignal, (action) => void (s.current = action));
  setHandler(deviceLockStateQuery, (): DeviceLockView => ({
    deviceId: input.deviceId,
    settings: s.settings,
    holder: s.holder && {
      requestId: s.holder.requestId,
      workflowId: s.holder.workflowId,
      stepPath: s.holder.stepPath,
      token: s.holder.token,
      grantedAt: s.holder.grantedAt,
      leaseMs: s.holder.leaseMs,
      leaseExpiresAt: s.holder.leaseExpiresAt,
    },
    waiting: s.waiting.map((w, i) => ({
      requestId: w.requestId,
      workflowId: w.workflowId,
      stepPath: w.stepPath,
      position: i + 1,
      enqueuedAt: w.enqueuedAt,
    })),
    lastResult: s.lastResult,
    current: s.current,
    stats: { ...s.stats },
    nextToken: s.nextToken,
  }));

  const grantNext = async (settings: DeviceSettings): Promise<void> => {
    while (!s.holder && s.waiting.length) {
      const holder = grantFirst(settings);
      // Its next deviceAcquire call returns the grant; a run that has gone away loses it with the lease.
      if (holder.via === 'update') continue;
      const delivered = await tell(holder.workflowId, (h) =>
        h.signal(deviceGrantedSignal, {
          requestId: holder.requestId,
          token: holder.token,
          leaseMs: holder.leaseMs,
          settings,
        }),
      );
      // The run is gone (finished, terminated): nobody will release, so move on now.
      if (!delivered && s.holder === holder) s.holder = undefined;
    }
  };

  const broadcastPositions = () => {
    const waiting = s.waiting.length;
    s.waiting.forEach((w, i) => {
      // Requests by update read their place from the lock's state (acquireDevice heartbeats it).
      if (w.via === 'update') return;
      void tell(w.workflowId, (h) =>
        h.signal(deviceQueuePositionSignal, { requestId: w.requestId, position: i + 1, waiting }),
      );
    });
    positionsDirty = false;
    lastBroadcast = Date.now();
  };

  for (;;) {
    if (s.settings) await grantNext(s.settings);
    if (positionsDirty && Date.now() - lastBroadcast >= POSITION_BROADCAST_MS) broadcastPositions();

    const info = workflowInfo();
    const moving = info.taskQueue !== ownQueue && patched(OWN_QUEUE_PATCH);
    if (moving || info.continueAsNewSuggested || info.historyLength > maxEvents || grantsHere >= grantsPerRun) {
      draining = true;
      await Promise.all([...inFlight]);
      await condition(allHandlersFinished);
      const carried: DeviceLockState = {
        ...s,
        ...(bounded && describeRequests.length > 0 && { describeRequests: [...describeRequests] }),
        ...(refused.size > 0 && { refused: [...refused] }),
      };
      // A lock started on the orchestrator's queue moves to the device's, where its worker serves it.
      const next = makeContinueAsNewFunc<typeof deviceLock>(moving ? { taskQueue: ownQueue } : {});
      await next({ ...input, state: carried });
    }

    const deadlines: number[] = [];
    if (s.holder) deadlines.push(s.holder.leaseExpiresAt);
    if (positionsDirty) deadlines.push(lastBroadcast + POSITION_BROADCAST_MS);
    changed = false;
    if (deadlines.length) await condition(() => changed, Math.max(1, Math.min(...deadlines) - Date.now()));
    else await condition(() => changed);

    const holder = s.holder;
    if (holder && Date.now() >= holder.leaseExpiresAt) {
      s.holder = undefined;
      s.stats.leasesExpired++;
      void tell(holder.workflowId, (h) =>
        h.signal(deviceLeaseRevokedSignal, { requestId: holder.requestId, token: holder.token }),
      );
    }
  }
}
