import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { artifactInvalid } from './errors';

const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Reads a firmware image, refusing anything outside the configured artifact roots (symlinks resolved). */
export async function readArtifact(
  artifact: string,
  roots: readonly string[],
): Promise<{ file: string; image: Buffer }> {
  if (!path.isAbsolute(artifact))
    throw artifactInvalid(`artifact "${artifact}" must be an absolute path (a build step's output.artifact)`);
  let file: string;
  try {
    file = await realpath(artifact);
  } catch {
    throw artifactInvalid(`artifact ${artifact} does not exist`);
  }
  if (roots.length) {
    const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
    if (!realRoots.some((r) => inside(r, file)))
      throw artifactInvalid(`artifact ${artifact} is outside the artifact roots (${roots.join(', ')})`);
  }
  const info = await stat(file);
  if (!info.isFile()) throw artifactInvalid(`artifact ${artifact} is not a file`);
  if (info.size === 0) throw artifactInvalid(`artifact ${artifact} is empty`);
  if (info.size > MAX_IMAGE_BYTES)
    throw artifactInvalid(`artifact ${artifact} is ${info.size} bytes, over ${MAX_IMAGE_BYTES}`);
  return { file, image: await readFile(file) };
}
