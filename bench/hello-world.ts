/**
 * The benchmark's HTTP baseline: a bare Fastify server on 127.0.0.1 with one JSON route per method,
 * run as its own process like `chatport serve`, so both are measured with the same client and load.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
// Parses the JSON body as chatport does, and answers a small JSON object.
app.post('/echo', async (request) => ({ received: typeof request.body === 'object' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`hello-world: listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
