/**
 * A real HTTP server on 127.0.0.1 standing in for the GitHub REST API's release endpoints
 * (a sibling of github-api.ts): release by tag (404 until created), create, list assets,
 * delete an asset, and the upload endpoint, which upload_url points back at this same server.
 * Uploaded bytes are kept, so a test can compare their sha256 with the files on disk.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReleaseCall {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  contentType: string | undefined;
  bytes: number;
  json: unknown;
}

export interface FakeAsset {
  id: number;
  name: string;
  size: number;
  sha256: string;
  data: Buffer;
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  name: string;
  prerelease: boolean;
  target_commitish: string | undefined;
  html_url: string;
  upload_url: string;
  assets: FakeAsset[];
}

export interface FakeReleasesApi {
  url: string;
  calls: ReleaseCall[];
  releases: FakeRelease[];
  close(): Promise<void>;
}

export async function startFakeReleases(owner = 'o', repo = 'r'): Promise<FakeReleasesApi> {
  const releases: FakeRelease[] = [];
  const calls: ReleaseCall[] = [];
  let next = 5000;
  let base = '';
  const prefix = `/repos/${owner}/${repo}/releases`;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a handler that throws fails the test as an unhandled rejection
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    let json: unknown;
    if ((req.headers['content-type'] ?? '').includes('json') && raw.length > 0) {
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    calls.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      bytes: raw.length,
      json,
    });
    const send = (status: number, data?: unknown): void => {
      if (data === undefined) {
        res.writeHead(status);
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    const view = (r: FakeRelease): object => ({ ...r, assets: r.assets.map(assetView) });
    const assetView = (a: FakeAsset): object => ({ id: a.id, name: a.name, size: a.size, url: `${base}${prefix}/assets/${a.id}`, state: 'uploaded' });
    let m: RegExpExecArray | null;

    if ((m = new RegExp(`^${prefix}/tags/(.+)$`).exec(url.pathname)) && req.method === 'GET') {
      const r = releases.find((x) => x.tag_name === decodeURIComponent(m![1]!));
      if (r) send(200, view(r));
      else send(404, { message: 'Not Found', status: '404' });
      return;
    }
    if (url.pathname === prefix && req.method === 'POST') {
      const body = json as { tag_name?: string; name?: string; prerelease?: boolean; target_commitish?: string };
      if (!body.tag_name) {
        send(422, { message: 'tag_name is required' });
        return;
      }
      if (releases.some((x) => x.tag_name === body.tag_name)) {
        send(422, { message: 'already_exists' });
        return;
      }
      const id = next++;
      const r: FakeRelease = {
        id,
        tag_name: body.tag_name,
        name: body.name ?? body.tag_name,
        prerelease: body.prerelease === true,
        target_commitish: body.target_commitish,
        html_url: `https://github.example/${owner}/${repo}/releases/tag/${body.tag_name}`,
        upload_url: `${base}/uploads${prefix}/${id}/assets{?name,label}`,
        assets: [],
      };
      releases.push(r);
      send(201, view(r));
      return;
    }
    if ((m = new RegExp(`^${prefix}/(\\d+)/assets$`).exec(url.pathname)) && req.method === 'GET') {
      const r = releases.find((x) => x.id === Number(m![1]));
      if (!r) {
        send(404, { message: 'Not Found' });
        return;
      }
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      send(200, r.assets.slice((page - 1) * perPage, page * perPage).map(assetView));
      return;
    }
    if ((m = new RegExp(`^${prefix}/assets/(\\d+)$`).exec(url.pathname)) && req.method === 'DELETE') {
      for (const r of releases) {
        const i = r.assets.findIndex((a) => a.id === Number(m![1]));
        if (i >= 0) {
          r.assets.splice(i, 1);
          send(204);
          return;
        }
      }
      send(404, { message: 'Not Found' });
      return;
    }
    if ((m = new RegExp(`^/uploads${prefix}/(\\d+)/assets$`).exec(url.pathname)) && req.method === 'POST') {
      const r = releases.find((x) => x.id === Number(m![1]));
      const name = url.searchParams.get('name');
      if (!r) {
        send(404, { message: 'Not Found' });
        return;
      }
      if (!name) {
        send(422, { message: 'name is required' });
        return;
      }
      // GitHub refuses a second asset of the same name.
      if (r.assets.some((a) => a.name === name)) {
        send(422, { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
        return;
      }
      const a: FakeAsset = { id: next++, name, size: raw.length, sha256: createHash('sha256').update(raw).digest('hex'), data: raw };
      r.assets.push(a);
      send(201, assetView(a));
      return;
    }
    send(404, { message: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return { url: base, calls, releases, close: () => new Promise((r) => server.close(() => r())) };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
