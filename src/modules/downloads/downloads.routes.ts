import { Type } from 'typebox';
import type { Context } from '../../context.js';
import type { HttpApp } from '../../http/http-app.js';
import { ApiError, notFound } from '../../lib/errors.js';
import { StorageObjectNotFoundError } from '../storage/storage.errors.js';
import {
  attachmentDisposition,
  contentTypeOf,
  ifNoneMatchMatches,
  ifRangeAllows,
  parseRange,
} from './downloads.headers.js';
import { findDownloadableFile } from './downloads.usecases.js';

const DownloadParams = Type.Object({ appId: Type.String(), taskId: Type.String(), filename: Type.String() });

/**
 * `GET|HEAD /downloads/:appId/:taskId/:filename?expires=..&signature=..`: the file an export task
 * published, for whoever holds a valid link (no api key: links are handed to browsers and scripts).
 * Refusals are in findDownloadableFile; here, HTTP: `Range` (206, 416), `If-None-Match` (304), HEAD.
 */
export function registerDownloadRoutes(app: HttpApp, { db, storage, clock }: Context): void {
  app.route({
    method: ['GET', 'HEAD'],
    url: '/downloads/:appId/:taskId/:filename',
    config: { access: 'public', operation: 'Download' },
    // The query is not declared: a malformed link must answer 403 like any other bad link, not 400.
    schema: { params: DownloadParams },
    async handler(request, reply) {
      const query = request.query as Record<string, unknown>;
      const { key, stored } = await findDownloadableFile({
        db,
        storage,
        clock,
        logger: request.log,
        request: { ...request.params, expires: query.expires, signature: query.signature },
      });
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };

      if (ifNoneMatchMatches(header('if-none-match'), stored.etag)) {
        return reply.code(304).header('etag', stored.etag).send();
      }
      const range = ifRangeAllows(header('if-range'), stored.etag)
        ? parseRange(header('range'), stored.size)
        : ({ kind: 'whole' } as const);
      if (range.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${stored.size}`);
        throw new ApiError(
          'rangeNotSatisfiable',
          `the file has ${stored.size} bytes; the range is past its end`,
        );
      }
      const slice = range.kind === 'partial' ? { start: range.start, end: range.end } : undefined;
      // Opened before any header is set: should the file vanish now, the 404 carries no file headers.
      let body;
      if (request.method !== 'HEAD') {
        try {
          body = await storage.openRead(key, slice);
        } catch (error) {
          if (error instanceof StorageObjectNotFoundError) {
            throw notFound(`Can't find the file of task ${request.params.taskId}`);
          }
          throw error;
        }
      }

      const { filename } = request.params;
      reply
        .header('etag', stored.etag)
        .header('accept-ranges', 'bytes')
        .header('content-type', contentTypeOf(filename))
        .header('content-disposition', attachmentDisposition(filename))
        .header('cache-control', 'private, no-cache')
        .header('x-content-type-options', 'nosniff');
      if (slice) {
        reply
          .code(206)
          .header('content-range', `bytes ${slice.start}-${slice.end}/${stored.size}`)
          .header('content-length', slice.end - slice.start + 1);
      } else {
        reply.header('content-length', stored.size);
      }
      return reply.send(body);
    },
  });
}
