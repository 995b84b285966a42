/**
 * The runs whose histories are recorded into test/histories/*.json and replayed in CI against
 * today's workflow code. Each scenario drives its run to the end (approvals included).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { approveUpdate, progressQuery, type RunInput, type RunResult, type Spec } from '../../workflows/shared';

type Handle = WorkflowHandle<(i: RunInput) => Promise<RunResult>>;

export interface Scenario {
  name: string;
  spec: Spec;
  inputs?: Record<string, unknown>;
  extra?: Partial<RunInput>;
  /** Drives the run (e.g. answers approvals); the run must end, successfully or not. */
  drive?(handle: Handle): Promise<void>;
}

async function approveWhenPending(handle: Handle, stepId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const p = await handle.query(progressQuery);
    if (p.pendingApprovals.some((a) => a.stepId === stepId)) {
      await handle.executeUpdate(approveUpdate, {
        args: [{ stepId, decision: 'approve', by: 'recorder', comment: 'ok' }],
      });
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`approval ${stepId} never became pending`);
}

const echo = (id: string, args: unknown) => ({ id, kind: 'activity' as const, activity: 'test.echo', args });

export const SCENARIOS: Scenario[] = [
  {
    name: 'parallel-approval',
    spec: {
      name: 'parallel-approval',
      inputs: { target: { type: 'string', default: 'esp32-s3' } },
      steps: [
        {
          id: 'checks',
          kind: 'parallel',
          branches: [
            [echo('build', { artifact: 'fw-${inputs.target}.bin' })],
            [echo('lint', { ok: true }), { id: 'pause', kind: 'sleep', duration: '50ms' }],
          ],
        },
        { id: 'approve', kind: 'approval', prompt: 'Upload ${steps.build.output.artifact}?', timeout: '1h' },
        echo('ship', { artifact: '${steps.build.output.artifact}', by: '${steps.approve.output.by}' }),
      ],
    },
    drive: (h) => approveWhenPending(h, 'approve'),
  },
  {
    name: 'map-branch',
    spec: {
      name: 'map-branch',
      steps: [
        {
          id: 'each',
          kind: 'map',
          items: [1, 5, 12, 30, 2],
          maxConcurrency: 2,
          steps: [
            {
              id: 'size',
              kind: 'branch',
              cases: [{ when: { gt: ['${item}', 10] }, steps: [echo('large', { n: '${item}', size: 'large' })] }],
              otherwise: [echo('small', { n: '${item}', size: 'small' })],
            },
          ],
        },
      ],
    },
  },
  {
    name: 'failfast-cancel',
    spec: {
      name: 'failfast-cancel',
      steps: [
        {
          id: 'race',
          kind: 'parallel',
          branches: [
            [{ id: 'wait', kind: 'sleep', duration: '1h' }],
            [{ id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'kaput' } }],
          ],
        },
      ],
    },
  },
  {
    name: 'approval-timeout-child',
    spec: {
      name: 'approval-timeout-child',
      steps: [
        { id: 'gate', kind: 'approval', timeout: '200ms', onTimeout: 'approve' },
        { id: 'sub', kind: 'child', spec: 'leaf', inputs: { x: 3 } },
      ],
    },
    extra: {
      childSpecs: {
        leaf: {
          name: 'leaf',
          inputs: { x: { type: 'number' } },
          steps: [echo('twice', { v: '${inputs.x}' })],
          output: '${steps.twice.output.v}',
        },
      },
    },
  },
];
