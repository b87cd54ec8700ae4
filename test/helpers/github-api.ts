/** A real HTTP server on 127.0.0.1 standing in for the GitHub REST API's issue-comment endpoints. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  comments: { id: number; body: string; html_url: string }[];
  close(): Promise<void>;
}

export async function startFakeGitHub(owner = 'o', repo = 'r', preexisting: { body: string }[] = []): Promise<FakeGitHub> {
  const comments = preexisting.map((c, i) => ({ id: 100 + i, body: c.body, html_url: `https://github.example/${owner}/${repo}/pull/7#issuecomment-${100 + i}` }));
  const calls: RecordedCall[] = [];
  let next = 1000;
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a handler that throws fails the test as an unhandled rejection
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization, body });
    const send = (status: number, data: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    const list = new RegExp(`^/repos/${owner}/${repo}/issues/(\\d+)/comments$`).exec(url.pathname);
    const one = new RegExp(`^/repos/${owner}/${repo}/issues/comments/(\\d+)$`).exec(url.pathname);
    if (list && req.method === 'GET') {
      send(200, comments);
      return;
    }
    if (list && req.method === 'POST') {
      const c = { id: next++, body: (body as { body: string }).body, html_url: `https://github.example/${owner}/${repo}/pull/${list[1]}#issuecomment-${next - 1}` };
      comments.push(c);
      send(201, c);
      return;
    }
    if (one && req.method === 'PATCH') {
      const c = comments.find((x) => x.id === Number(one[1]));
      if (!c) {
        send(404, { message: 'Not Found' });
        return;
      }
      c.body = (body as { body: string }).body;
      send(200, c);
      return;
    }
    send(404, { message: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    comments,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
