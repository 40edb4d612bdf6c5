import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { waitForTask } from '../helpers/exports.js';
import { rawRequest, signToken } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { randomCases } from './random-cases.js';
import { systematicCases } from './systematic-cases.js';
import { describeRequest, renderRequest, type FuzzRequest, type FuzzTarget } from './fuzz-request.js';
import { rawHttp, type RawHttpResponse } from '../helpers/raw-http.js';
import { routesOf, type KnownRecords, type OpenApiDocument, type RouteSpec } from './route-catalogue.js';

/**
 * Property-based fuzzing of every route the server registers (read from its own OpenAPI document),
 * on both databases: NUL characters, prototype names, huge lists, deep nesting, extreme numbers and
 * odd encodings in every position (path, query, JSON in the query, headers, body), first one probe at
 * a time (systematic cases), then mixed at random by fast-check. No answer may be a 5xx, and every
 * error must be in Stream's shape. FUZZ_RUNS sets the random requests per route; FUZZ_SEED replays.
 */
const RANDOM_RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** The routes, read once from a server's OpenAPI document: the same build serves both databases. */
const routes: RouteSpec[] = await (async () => {
  const t = await startTestServer('sqlite');
  try {
    return routesOf((await (await fetch(`${t.baseURL}/openapi.json`)).json()) as OpenApiDocument);
  } finally {
    await t.close();
  }
})();

/** What is wrong with an answer, if anything: a 5xx, or an error body not in Stream's shape. */
function problemWith(method: string, response: RawHttpResponse): string | undefined {
  if (response.status >= 500) return `answered ${response.status}: ${response.text.slice(0, 300)}`;
  if (response.status < 400 || method === 'HEAD') return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(response.text) as Record<string, unknown>;
  } catch {
    return `answered ${response.status} with a body that is not JSON: ${response.text.slice(0, 200)}`;
  }
  const streamShape =
    typeof body.code === 'number' &&
    body.StatusCode === response.status &&
    typeof body.message === 'string' &&
    typeof body.duration === 'string';
  return streamShape
    ? undefined
    : `answered ${response.status} outside Stream's error shape: ${response.text.slice(0, 300)}`;
}

describe('the fuzz suite’s route catalogue', () => {
  it('holds every route of the API, read from the OpenAPI document', () => {
    const names = routes.map((route) => `${route.method} ${route.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /users',
        'POST /channels',
        'POST /channels/{type}/{id}/message',
        'DELETE /messages/{id}/reaction/{type}',
        'GET /tasks/{id}',
        'POST /export_channels',
        'GET /downloads/{appId}/{taskId}/{filename}',
      ]),
    );
    expect(routes.find((route) => route.path === '/users/{id}')?.pathParams).toEqual(['id']);
    expect(
      routes.find((route) => route.method === 'POST' && route.path === '/channels')?.body?.properties,
    ).toHaveProperty('filter_conditions');
  });
});

describe.each(testDialects)(
  'every route answers any input below 500, in Stream’s error shape (%s)',
  (dialect) => {
    let t: TestServer;
    let port: number;
    let shared: Pick<KnownRecords, 'taskId' | 'download' | 'reactionType' | 'channelType'>;
    let tokens: FuzzTarget['tokens'];

    const call = (method: string, path: string, body?: unknown) =>
      rawRequest(t.baseURL, method, path, { apiKey: t.app.apiKey, token: tokens.server, body });

    /** Creates (or re-creates) a user and a friend, their channel, a message, a reply and a reaction. */
    async function seed(ids: { user: string; friend: string; channel: string; message: string }) {
      await call('POST', '/users', {
        users: { [ids.user]: { id: ids.user }, [ids.friend]: { id: ids.friend } },
      });
      await call('POST', `/channels/messaging/${ids.channel}/query`, {
        data: { created_by_id: ids.user, members: [ids.user, ids.friend] },
      });
      await call('POST', `/channels/messaging/${ids.channel}/message`, {
        message: { id: ids.message, text: 'hello', user_id: ids.user },
      });
      await call('POST', `/channels/messaging/${ids.channel}/message`, {
        message: { id: `${ids.message}-reply`, text: 'a reply', user_id: ids.friend, parent_id: ids.message },
      });
      await call('POST', `/messages/${ids.message}/reaction`, {
        reaction: { type: 'like', user_id: ids.friend },
      });
    }

    /**
     * Records for one route: its own, fresh (earlier routes may have deleted theirs), named in its
     * systematic cases; and the shared ones of KNOWN_IDS, which generated values name, seeded again.
     */
    async function seedRecords(index: number): Promise<KnownRecords> {
      await seed({ user: 'ann', friend: 'ben', channel: 'c1', message: 'm1' });
      const own = {
        user: `ann-${index}`,
        friend: `ben-${index}`,
        channel: `c-${index}`,
        message: `m-${index}`,
      };
      await seed(own);
      return { ...shared, userId: own.user, channelId: own.channel, messageId: own.message };
    }

    beforeAll(async () => {
      t = await startTestServer(dialect);
      port = Number(new URL(t.baseURL).port);
      const other = await t.createTestApp('forger');
      tokens = {
        server: await signToken(t.app.apiSecret, { server: true }),
        user: await signToken(t.app.apiSecret, { user_id: 'ann' }),
        forged: await signToken(other.apiSecret, { server: true }),
      };
      const none = { appId: '0', taskId: 'none', filename: 'x', expires: '0', signature: 'x' };
      shared = { taskId: 'none', channelType: 'messaging', reactionType: 'like', download: none };
      const seeded = await seedRecords(0);
      const { task_id } = await t.app.client.exportChannels([{ type: 'messaging', id: seeded.channelId }]);
      const task = await waitForTask(t.app.client, task_id);
      const link = new URL(task.result!.url!);
      const [, , appId = '', taskId = '', filename = ''] = link.pathname.split('/');
      shared = {
        ...shared,
        taskId: task_id,
        download: {
          appId,
          taskId,
          filename,
          expires: link.searchParams.get('expires') ?? '',
          signature: link.searchParams.get('signature') ?? '',
        },
      };
    });
    afterAll(() => t.close());

    it.each(routes.map((route, index) => ({ route, index, name: `${route.method} ${route.path}` })))(
      '$name',
      async ({ route, index }) => {
        const known = await seedRecords(index + 1);
        const target: FuzzTarget = { port, apiKey: t.app.apiKey, tokens, known };
        const answer = async (request: FuzzRequest) => {
          const raw = renderRequest(route, request, target);
          const problem = problemWith(raw.method, await rawHttp(port, raw));
          return problem === undefined ? undefined : `${describeRequest(raw)}\n    ${problem}`;
        };

        const failures: string[] = [];
        for (const request of systematicCases(route, known)) {
          const failure = await answer(request);
          if (failure !== undefined && failures.push(failure) >= 10) break;
        }
        expect(failures, failures.join('\n')).toEqual([]);

        await fc.assert(
          fc.asyncProperty(randomCases(route, known), async (request) => {
            const failure = await answer(request);
            if (failure !== undefined) throw new Error(failure);
          }),
          { numRuns: RANDOM_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
        );
        expect((await rawRequest(t.baseURL, 'GET', '/health')).status).toBe(200);
      },
      180_000,
    );
  },
);
