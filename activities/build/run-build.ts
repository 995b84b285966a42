/**
 * The build activity: runs a workspace's configured command in its own process group,
 * heartbeating the output's last lines; cancellation kills the group. The output names the
 * artifact the command produced, for a later device_upload.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BuildActivities, BuildInput, BuildProgress, BuildResult } from '../../workflows/contracts/build';
import type { BuildsConfig } from './config';
import { runProcessGroup } from './process-group';

const HEARTBEAT_TAIL = 20;
const RESULT_TAIL = 30;

const fail = (type: string, message: string, details?: unknown) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });

const substitute = (text: string, target: string | undefined) => text.replace(/\{target\}/g, target ?? '');

export function createBuildActivities(config: BuildsConfig): BuildActivities {
  return {
    async runBuild(input: BuildInput): Promise<BuildResult> {
      const ws = config.workspaces[input.workspace];
      if (!ws)
        throw fail(
          'UnknownWorkspace',
          `no build workspace "${input.workspace}" (configured: ${Object.keys(config.workspaces).join(', ')})`,
        );
      const { target } = input;
      const usesTarget = [...ws.command, ws.artifact].some((a) => a.includes('{target}'));
      if (usesTarget && target === undefined)
        throw fail('InvalidTarget', `workspace "${input.workspace}" needs a target`);
      if (target !== undefined && ws.targets && !ws.targets.includes(target)) {
        throw fail(
          'InvalidTarget',
          `target "${target}" is not one of workspace "${input.workspace}"'s targets (${ws.targets.join(', ')})`,
        );
      }

      const ctx = Context.current();
      let progress: BuildProgress = { bytes: 0, tail: [] };
      // Builds can be quiet for minutes (linking); keep heartbeating so cancellation still arrives.
      const keepalive = setInterval(
        () => ctx.heartbeat(progress),
        Math.max(200, Math.floor((ctx.info.heartbeatTimeoutMs ?? 30_000) / 3)),
      );
      let run;
      try {
        run = await runProcessGroup({
          argv: ws.command.map((a) => substitute(a, target)),
          cwd: ws.path,
          env: { ...process.env, ...ws.env, ...(target === undefined ? {} : { BUILD_TARGET: target }) },
          signal: ctx.cancellationSignal,
          killGraceMs: ws.killGraceMs,
          tailLines: RESULT_TAIL,
          onOutput: (tail, bytes) => {
            progress = { bytes, tail: tail.slice(-HEARTBEAT_TAIL) };
            ctx.heartbeat(progress);
          },
        });
      } catch (err) {
        throw fail('BuildFailed', `workspace "${input.workspace}": ${(err as Error).message}`);
      } finally {
        clearInterval(keepalive);
      }
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const logTail = run.tail.join('\n');
      if (run.exitCode !== 0) {
        throw fail(
          'BuildFailed',
          `build of "${input.workspace}"${target ? ` (${target})` : ''} exited with ${run.exitCode ?? run.signal}: ${run.tail.slice(-3).join(' | ')}`,
          { logTail },
        );
      }
      const artifact = path.resolve(ws.path, substitute(ws.artifact, target));
      const info = await stat(artifact).catch(() => undefined);
      if (!info?.isFile())
        throw fail('ArtifactMissing', `the build succeeded but left no artifact at ${artifact}`, { logTail });
      const sha256 = createHash('sha256')
        .update(await readFile(artifact))
        .digest('hex');
      return {
        workspace: input.workspace,
        target,
        artifact,
        bytes: info.size,
        sha256,
        exitCode: 0,
        durationMs: run.durationMs,
        logTail,
      };
    },
  };
}
