import net from 'node:net';

/**
 * An HTTP/1.1 exchange over a bare socket: the request goes out byte for byte as built (malformed
 * percent-encoding, odd header bytes, any body), which no HTTP client library would send. One request
 * a connection (`Connection: close`), so a response ends when the server closes.
 */
export interface RawHttpRequest {
  method: string;
  /** The request target exactly as written on the request line, already encoded (or not). */
  target: string;
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text (chunked transfer decoded); empty for HEAD and bodiless statuses. */
  text: string;
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseResponse(raw: Buffer, method: string): RawHttpResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error(`incomplete response: ${JSON.stringify(raw.toString('latin1'))}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(headEnd + 4);
  if (method === 'HEAD') body = Buffer.alloc(0);
  else if (headers['transfer-encoding']?.includes('chunked')) body = decodeChunked(body);
  else if (headers['content-length'] !== undefined)
    body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, text: body.toString('utf8') };
}

/** Sends one request and resolves with the response once the server closes the connection. */
export function rawHttp(
  port: number,
  request: RawHttpRequest,
  timeoutMillis = 30_000,
): Promise<RawHttpResponse> {
  const head =
    `${request.method} ${request.target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n` +
    request.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('') +
    (request.body !== undefined ? `Content-Length: ${request.body.length}\r\n` : '') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${timeoutMillis} ms to ${request.method} ${request.target}`));
    }, timeoutMillis);
    socket.on('connect', () => {
      socket.write(Buffer.from(head, 'latin1'));
      if (request.body !== undefined) socket.write(request.body);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    // A server may answer and close before it has read the whole body (413): the answer still counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks), request.method));
      } catch (error) {
        reject(new Error(`${request.method} ${request.target}: ${(error as Error).message}`));
      }
    });
  });
}
