/**
 * What the recorder runs its scenarios against, all real but the hosted model: a Temporal dev
 * server (our CLI, in memory), an orchestrator worker whose models point at the stand-in model
 * server (a local HTTP server speaking the OpenAI and Anthropic wire formats, since no hosted
 * model is reachable offline) and whose MCP servers are examples/.mcp.json's (the published
 * server-filesystem on a copy of the example workspace, and server-everything), a build worker
 * running the fake firmware build, and a simulated ESP32 on a pty pair with its device worker.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { McpServerConfig } from '../../activities/mcp/config/types';
import { loadBuildWorkerConfig } from '../../workers/build-config';
import { createBuildWorker } from '../../workers/build-worker';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { fakeBuildWorkspace } from '../fixtures/device/builds';
import { makeImage, simulatedDevice, startDeviceWorker, writeDevicesConfig } from '../fixtures/device/harness';
import { createDeviceRig } from '../fixtures/device/rig';
import { standInEnv } from '../fixtures/llm/harness';
import { StandInModelServer, standInModels, type Script } from '../fixtures/llm/model-server';
import { activities as testActivities } from '../fixtures/test-activities';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testTemporalConfig } from '../helpers/worker';
import { RECORDER_TOKENS, type BedFacts } from './scenarios';

const ROOT = path.resolve(__dirname, '../..');
/** A fixed queue name, so that re-recorded histories differ from the old ones only where runs did. */
export const RECORDING_TASK_QUEUE = 'record-histories';
const DEVICE_ID = 'k1-s3';
/** The firmware example's workspace and target (examples/firmware-release.spec.yaml). */
const FIRMWARE_WORKSPACE = 'k1-firmware';
const FIRMWARE_TARGET = 'esp32-s3-devkitc-1';

/** The stand-in's models plus `limited`, whose provider has limits (and so a task queue of its own). */
function withLimitedProvider(models: ReturnType<typeof standInModels>, server: StandInModelServer) {
  return {
    providers: {
      ...models.providers,
      limited: {
        type: 'openai',
        baseUrl: server.openaiBaseUrl,
        apiKeyEnv: 'STANDIN_API_KEYS',
        limits: { callsPerSecond: 50, concurrentPerWorker: 4 },
      },
    },
    models: { ...models.models, limited: { provider: 'limited', model: 'stand-in-limited' } },
  };
}

const ASKING_SERVER: McpServerConfig = {
  name: 'asking',
  transport: 'stdio',
  command: process.execPath,
  args: ['--import', 'tsx', path.join(ROOT, 'test', 'fixtures', 'mcp', 'asking-server.ts')],
  env: {},
  cwd: ROOT,
  source: 'test/histories/bed.ts',
  clientRequests: { elicitation: { timeoutMs: 60_000 }, sampling: { model: 'default', maxTokens: 100 } },
};

export const DEFAULT_MODEL_SCRIPT: Script = () => ({ text: 'ok', usage: { input: 10, output: 5 } });

export interface RecordingBed {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  facts: BedFacts;
  /** The stand-in model's answers from now on. */
  setModel(script: Script): void;
  stop(): Promise<void>;
}

export async function startRecordingBed(log: (line: string) => void): Promise<RecordingBed> {
  const dir = mkdtempSync(path.join(tmpdir(), 'record-histories-'));
  const stops: Array<[string, () => Promise<void>]> = [];
  const stop = async () => {
    for (const [what, s] of stops.reverse()) {
      const t = Date.now();
      await s().catch((err: unknown) => log(`while stopping the ${what}: ${String(err)}`));
      if (Date.now() - t > 2_000) log(`stopping the ${what} took ${Date.now() - t} ms`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env = await createTestEnv();
    stops.push(['dev server', () => env.teardown()]);
    const server = await StandInModelServer.start(DEFAULT_MODEL_SCRIPT);
    stops.push(['model server', () => server.close()]);
    log(`dev server ${env.address}, stand-in model server ${server.openaiBaseUrl}`);

    // The firmware example's workspace; uploads are accepted only from under it.
    const ws = fakeBuildWorkspace(
      { FAKE_BUILD_MS: '100', FAKE_BUILD_BYTES: '4096' },
      [FIRMWARE_TARGET],
      FIRMWARE_WORKSPACE,
    );
    stops.push(['build workspace', async () => rmSync(ws.dir, { recursive: true, force: true })]);
    mkdirSync(path.join(ws.dir, 'images'));
    const image = makeImage(4096, path.join(ws.dir, 'images')).file;

    cpSync(path.join(ROOT, 'examples', 'mcp', 'workspace'), path.join(dir, 'mcp', 'workspace'), { recursive: true });
    const config = loadOrchestratorWorkerConfig({
      ...process.env,
      ...standInEnv(server),
      // A provider with limits: its calls run on its own task queue (scenario llm-provider-queues).
      LLM_MODELS_JSON: JSON.stringify(withLimitedProvider(standInModels(server), server)),
      MCP_CONFIG: path.join(ROOT, 'examples'),
      MCP_ENV: 'record-histories',
      WORKSPACE: dir,
      MCP_BLOB_DIR: path.join(dir, 'mcp-blobs'),
      BLOB_STORE_DIR: path.join(dir, 'blobs'),
    });
    // A server that elicits and samples during its tool calls (scenario mcp-client-requests).
    if (config.mcp) config.mcp.servers.servers.asking = ASKING_SERVER;
    // The tokens that scenarios' `approve` signals carry.
    const tokensFile = path.join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify(RECORDER_TOKENS));
    const orchestrator = await createOrchestratorWorker({
      connection: env.nativeConnection,
      temporal: testTemporalConfig(env, RECORDING_TASK_QUEUE),
      config: { ...config, shutdownGraceTimeMs: 5_000 },
      workflowBundle: await bundleWorkflowsOnce(),
      activities: testActivities,
      identityEnv: { AUTH_TOKENS_FILE: tokensFile },
    });
    stops.push(['orchestrator worker', runInProcess(orchestrator)]);

    const build = await createBuildWorker({
      connection: env.nativeConnection,
      temporal: { namespace: 'default' },
      config: loadBuildWorkerConfig({ BUILD_CONFIG: ws.configFile, BUILD_SHUTDOWN_GRACE: '1s' }),
    });
    stops.push(['build worker', runInProcess(build)]);

    const rig = createDeviceRig();
    stops.push(['simulated board', () => rig.stop()]);
    await rig.start();
    const devices = writeDevicesConfig(rig.dir, [simulatedDevice(DEVICE_ID, rig.devicePath)], [ws.dir]);
    const deviceWorker = await startDeviceWorker(env, RECORDING_TASK_QUEUE, devices, DEVICE_ID);
    stops.push(['device worker', deviceWorker.stop]);
    log(`workers: orchestrator, build (${FIRMWARE_WORKSPACE}), device ${DEVICE_ID} on ${rig.devicePath}`);

    return {
      env,
      taskQueue: RECORDING_TASK_QUEUE,
      facts: { deviceId: DEVICE_ID, image },
      setModel: (script) => {
        server.script = script;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
