import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { signToken } from '../helpers/raw-client.js';
import { rawHttp } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/** A client socket that records what it receives and when the server closes it. */
function openSocket(port: number, send = '') {
  const socket = net.connect(port, '127.0.0.1');
  const state = { received: '', closed: false, connected: false };
  socket.on('connect', () => {
    state.connected = true;
    if (send) socket.write(send);
  });
  socket.on('data', (chunk) => (state.received += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (state.closed = true));
  return {
    socket,
    state,
    closed: () => waitFor(() => state.closed, Boolean, { what: 'the server to close the connection' }),
  };
}

function parseOne(received: string) {
  const [head = '', body = ''] = received.split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    body: body ? (JSON.parse(body) as Record<string, unknown>) : {},
  };
}

const portOf = (t: TestServer) => Number(new URL(t.baseURL).port);

describe.each(testDialects)('connection timeouts close idle and stalled connections (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect, {
      env: {
        CHATPORT_HEADERS_TIMEOUT_MS: '400',
        CHATPORT_REQUEST_TIMEOUT_MS: '1500',
        CHATPORT_KEEP_ALIVE_TIMEOUT_MS: '300',
        CHATPORT_IDLE_TIMEOUT_MS: '5000',
      },
    });
  });
  afterAll(() => t.close());

  it('a connection that sends nothing is answered 408 code 23 and closed after the headers timeout', async () => {
    const silent = openSocket(portOf(t));
    await silent.closed();
    const response = parseOne(silent.state.received);
    expect(response.status).toBe(408);
    expect(response.body).toMatchObject({ code: 23, StatusCode: 408 });
  });

  it('a kept-alive connection is closed once it idles past the keep-alive timeout', async () => {
    const kept = openSocket(portOf(t), 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await kept.closed();
    expect(kept.state.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(kept.state.received.match(/HTTP\/1\.1/g)).toHaveLength(1);
  });

  it('a request whose body stops arriving is answered 408 code 23 after the request timeout', async () => {
    const token = await signToken(t.app.apiSecret, { server: true });
    const stalled = openSocket(
      portOf(t),
      `POST /users?api_key=${t.app.apiKey} HTTP/1.1\r\nHost: x\r\nauthorization: ${token}\r\n` +
        'stream-auth-type: jwt\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"users":',
    );
    await stalled.closed();
    const response = parseOne(stalled.state.received);
    expect(response.status).toBe(408);
    expect(response.body).toMatchObject({ code: 23, StatusCode: 408 });
  });
});

describe.each(testDialects)('the idle timeout (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect, {
      env: { CHATPORT_HEADERS_TIMEOUT_MS: '20000', CHATPORT_IDLE_TIMEOUT_MS: '400' },
    });
  });
  afterAll(() => t.close());

  it('closes a connection on which nothing moves for that long, before any other timeout', async () => {
    const silent = openSocket(portOf(t));
    await silent.closed();
    // Closed by the idle timeout, silently: the headers timeout (20 s) would have answered 408.
    expect(silent.state.received).toBe('');
  });
});

describe.each(testDialects)('past the connection cap (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(dialect, {
      env: { CHATPORT_MAX_CONNECTIONS: '4', CHATPORT_HEADERS_TIMEOUT_MS: '3000' },
    });
  });
  afterAll(() => t.close());

  it('new connections are refused until idle ones are reaped, and then /health answers a new client', async () => {
    const server = t.server.http.server;
    const openConnections = () =>
      new Promise<number>((resolve) => server.getConnections((_, count) => resolve(count)));
    const silent = Array.from({ length: 4 }, () => openSocket(portOf(t)));
    await waitFor(openConnections, (count) => count === 4, { what: 'four open connections' });

    let dropped = 0;
    server.on('drop', () => dropped++);
    const refused = openSocket(portOf(t));
    await refused.closed();
    expect(refused.state.received).toBe('');
    expect(dropped).toBe(1);

    for (const connection of silent) await connection.closed();
    const health = await rawHttp(portOf(t), { method: 'GET', target: '/health', headers: [] });
    expect(health.status).toBe(200);
  });
});
