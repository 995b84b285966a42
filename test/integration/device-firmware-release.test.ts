/**
 * The `examples/firmware-release.spec.yaml` example, as shipped: build (fake PlatformIO on the
 * build queue) → human approval → upload to the simulated ESP32-S3 over a pty (MD5 and boot
 * line verified) → pattern test, all inside one device session.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadBuildWorkerConfig } from '../../workers/build-config';
import { createBuildWorker } from '../../workers/build-worker';
import { validateSpec } from '../../workflows/spec/validate';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import type { BuildResult } from '../../workflows/contracts/build';
import type { DeviceCommandResult, DeviceUploadResult } from '../../workflows/contracts/device';
import { fakeBuildWorkspace } from '../fixtures/device/builds';
import { useDeviceBed } from '../fixtures/device/bed';
import { waitFor } from '../helpers/journal';

const EXAMPLE = path.resolve(__dirname, '../../examples/firmware-release.spec.yaml');
const ws = fakeBuildWorkspace(
  { FAKE_BUILD_MS: '200', FAKE_BUILD_BYTES: String(64 * 1024) },
  ['esp32-s3-devkitc-1'],
  'k1-firmware',
);
// Uploads are only accepted from the build workspace.
const bed = useDeviceBed({ boards: [{ id: 'k1-s3' }], artifactRoots: [ws.dir] });

test('firmware-release: build → approval → upload → verify, on a simulated board', async () => {
  const checked = validateSpec(parseYaml(readFileSync(EXAMPLE, 'utf8')));
  assert.ok(checked.ok, `the example is valid: ${JSON.stringify(!checked.ok && checked.issues)}`);
  const spec: Spec = checked.spec;

  const build = await createBuildWorker({
    connection: bed.env.nativeConnection,
    temporal: { namespace: bed.env.namespace ?? 'default' },
    config: loadBuildWorkerConfig({ BUILD_CONFIG: ws.configFile, BUILD_SHUTDOWN_GRACE: '1s' }),
  });

  await build.runUntil(async () => {
    const handle = await bed.orch.start(spec, { device: 'k1-s3' });
    const gate = await waitFor('the approval', async () =>
      (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === 'approve'),
    );
    assert.match(
      gate.prompt ?? '',
      /Upload \/.*\/out\/esp32-s3-devkitc-1\/firmware\.bin \(65536 bytes, sha256 [0-9a-f]{64}\) to k1-s3\?/,
    );
    assert.equal(
      bed
        .rig()
        .events()
        .filter((e) => e.event === 'upload_start').length,
      0,
      'nothing is flashed before the approval',
    );
    await handle.executeUpdate(approveUpdate, {
      args: [
        { stepId: 'approve', decision: 'approve', by: 'firmware-lead', groups: ['firmware-leads'], comment: 'ship it' },
      ],
    });

    const result = await handle.result();
    const built = result.steps.build?.output as BuildResult;
    const uploaded = result.steps.upload?.output as DeviceUploadResult;
    const verified = result.steps.verify?.output as DeviceCommandResult;
    assert.deepEqual(result.output, {
      artifact: built.artifact,
      approvedBy: 'firmware-lead',
      upload: 'completed',
      verify: 'completed',
    });
    assert.match(uploaded.bootLine ?? '', new RegExp(`^K1\\.node1 firmware ${uploaded.md5.slice(0, 8)} ready$`));
    assert.equal(verified.groups.fps, '150');
    const image = bed
      .rig()
      .events()
      .find((e) => e.event === 'image' && e.md5 === uploaded.md5);
    assert.ok(
      image && readFileSync(image.file as string).equals(readFileSync(built.artifact)),
      'the board runs the built image',
    );
  });
});
