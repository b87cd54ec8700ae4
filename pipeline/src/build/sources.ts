/**
 * Pinned sources: downloaded once into a cache named by their sha256, checked while they
 * stream to disk (never held in memory), and copied into a build context. A source already in
 * the cache (or carried in a bundle) needs no network.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ResolvedSource } from '../render/compose.ts';
import { BrickyardError } from '../util/errors.ts';

export function cachedSourcePath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'sources', sha256);
}

/** The sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Make sure the source is in the cache, downloading it when missing; returns its path. */
export async function ensureSource(src: ResolvedSource, cacheDir: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const dest = cachedSourcePath(cacheDir, src.sha256);
  if (existsSync(dest)) return dest;
  mkdirSync(join(cacheDir, 'sources'), { recursive: true });
  const partial = `${dest}.partial-${process.pid}`;
  let response: Response;
  try {
    response = await fetchImpl(src.url, { redirect: 'follow' });
  } catch (e) {
    throw new BrickyardError('SOURCE_UNAVAILABLE', `cannot download ${src.name} (${src.origin}) from ${src.url}: ${(e as Error).message}`, {
      hint: `without network, put the file into ${dest} (its sha256 is its name), or import a bundle that carries it`,
    });
  }
  if (!response.ok || !response.body) {
    throw new BrickyardError('SOURCE_UNAVAILABLE', `cannot download ${src.name} from ${src.url}: HTTP ${response.status}`, {
      hint: `check the URL in ${src.origin}, or put the file into ${dest}`,
    });
  }
  const hash = createHash('sha256');
  try {
    await pipeline(
      Readable.fromWeb(response.body),
      async function* (chunks) {
        for await (const chunk of chunks) {
          hash.update(chunk as Buffer);
          yield chunk;
        }
      },
      createWriteStream(partial),
    );
  } catch (e) {
    rmSync(partial, { force: true });
    throw new BrickyardError('SOURCE_UNAVAILABLE', `download of ${src.url} failed: ${(e as Error).message}`);
  }
  const got = hash.digest('hex');
  if (got !== src.sha256) {
    rmSync(partial, { force: true });
    throw new BrickyardError('SOURCE_MISMATCH', `${src.url} has sha256 ${got}, but ${src.origin} pins ${src.sha256}`, {
      hint: 'the file changed upstream or the pin is wrong: check the release and update the sha256 in the block or recipe',
    });
  }
  renameSync(partial, dest);
  return dest;
}
