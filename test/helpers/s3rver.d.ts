/** The part of s3rver's API the tests use (the package ships no types). */
declare module 's3rver' {
  import type { Server } from 'node:http';
  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string }>;
  }
  /** A Koa application: `middleware` runs in order, the S3 routes last. */
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void>>;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    httpServer: Server;
  }
  export interface KoaContext {
    method: string;
    path: string;
    query: Record<string, string | undefined>;
    status: number;
    body: unknown;
    type: string;
    set(name: string, value: string): void;
  }
}
