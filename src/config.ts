import path from 'node:path';

/** Every setting chatport reads, each from one environment variable, with its default. */
export interface Config {
  /** CHATPORT_PORT, default 3030 (the port Stream's SDKs use for local test runs). */
  port: number;
  /** CHATPORT_HOST, default 127.0.0.1. Set 0.0.0.0 to listen on every interface (containers). */
  host: string;
  /** CHATPORT_DATA_DIR, default ./data: the SQLite database, the dev app's credentials, export files. */
  dataDir: string;
  /** DATABASE_URL: postgres://... selects PostgreSQL; unset means the embedded SQLite file. */
  databaseUrl: string | undefined;
  /**
   * CHATPORT_DATABASE_READ_URL: a PostgreSQL read replica (or read-only role) that exports read from,
   * once it has caught up with the primary as of the export's start. Unset: exports read the primary.
   */
  databaseReadUrl: string | undefined;
  /** CHATPORT_DATABASE_POOL_SIZE, default 10: PostgreSQL connections per pool (two with a replica). */
  databasePoolSize: number;
  /** CHATPORT_API_KEY / CHATPORT_API_SECRET: an app that must exist at start. */
  apiKey: string | undefined;
  apiSecret: string | undefined;
  /**
   * CHATPORT_PUBLIC_URL: base of download links. Default: the address the server listens on, which
   * only local clients can reach; set it when clients reach the server under another name.
   */
  publicUrl: string;
  /** CHATPORT_LOG_LEVEL, default info. */
  logLevel: string;
  /** CHATPORT_BODY_LIMIT, bytes, default 1048576 (1 MiB). Larger bodies get 413 code 22. */
  bodyLimit: number;
  /**
   * CHATPORT_HEADERS_TIMEOUT_MS, default 20000: how long a new connection (or the next request on a
   * kept-alive one) may take to send its request line and headers; a connection that sends nothing is
   * closed after it too. At most CHATPORT_REQUEST_TIMEOUT_MS.
   */
  headersTimeoutMillis: number;
  /** CHATPORT_REQUEST_TIMEOUT_MS, default 120000: how long a client may take to send a whole request. */
  requestTimeoutMillis: number;
  /**
   * CHATPORT_KEEP_ALIVE_TIMEOUT_MS, default 72000: how long a connection is kept open, idle, after a
   * response for the next request; longer than the 60 s idle timeout common load balancers use.
   */
  keepAliveTimeoutMillis: number;
  /**
   * CHATPORT_IDLE_TIMEOUT_MS, default 180000: a connection on which nothing is sent or received for
   * this long is closed, even in the middle of a response (a client that stopped reading a download).
   * Longer than the request timeout by default, so a stalled request gets its 408 first.
   */
  idleTimeoutMillis: number;
  /**
   * CHATPORT_MAX_CONNECTIONS, default 800: open connections the server accepts; past it new ones are
   * refused until others close. Below the common 1,024 file-descriptor limit, which database
   * connections and export files share.
   */
  maxConnections: number;
  /** CHATPORT_WORKER, default true: run the task worker inside the server process. */
  inProcessWorker: boolean;
  /** CHATPORT_WORKER_CONCURRENCY, default 2: tasks one worker process runs at once. */
  workerConcurrency: number;
  /**
   * CHATPORT_TASK_LEASE_MS, default 30000: how long a worker holds a task without a heartbeat. A task
   * whose worker died is retried once its lease runs out.
   */
  taskLeaseMillis: number;
  /**
   * CHATPORT_TASK_POLL_MS, default 50: how often a worker looks for tasks queued by other processes. A
   * look is one read that takes no lock; tasks queued in the worker's own process wake it at once.
   */
  taskPollMillis: number;
  /**
   * CHATPORT_MAX_TASKS_PER_APP, default 100: tasks (exports, deletes) one app may have queued or running
   * at once; past it, requests that would queue one get 429 code 9 with a Retry-After. 0: no cap.
   */
  maxTasksPerApp: number;
  /**
   * CHATPORT_EXPORT_CHECKPOINT_MS, default 2000: how often a running export records its progress and
   * the checkpoint a later attempt resumes from (at the end of a page, once this long has passed). 0:
   * after every page.
   */
  exportCheckpointMillis: number;
  /** CHATPORT_LINK_TTL_HOURS, default 24: how long a signed download link is valid. */
  linkTtlHours: number;
  /** CHATPORT_RETENTION_DAYS, default 60: how long export files are kept after completion. */
  retentionDays: number;
  /**
   * CHATPORT_STORAGE, default local: where export files live. `local`: under <dataDir>/files;
   * `s3://bucket/prefix`: in that bucket under that prefix (storage.drivers.ts).
   */
  storageDriver: string;
  /** CHATPORT_S3_ENDPOINT: URL of an S3-compatible store (MinIO, Ceph, R2, ...); unset for AWS S3. */
  s3Endpoint: string | undefined;
  /**
   * CHATPORT_S3_FORCE_PATH_STYLE: `<endpoint>/<bucket>/<key>` URLs. Default true when
   * CHATPORT_S3_ENDPOINT is set (most S3-compatible stores want it), false for AWS S3.
   */
  s3ForcePathStyle: boolean;
  /** AWS_REGION (or AWS_DEFAULT_REGION), default us-east-1. */
  s3Region: string;
  /**
   * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when set; otherwise the AWS SDK's
   * own chain finds credentials (a profile, an instance or task role).
   */
  s3Credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** CHATPORT_S3_PART_SIZE_MB, default 8 (at least 5): size of each part of a multipart upload. */
  s3PartSizeMb: number;
  /** CHATPORT_S3_UPLOAD_CONCURRENCY, default 2: parts one export uploads at once. */
  s3UploadConcurrency: number;
  /**
   * CHATPORT_WEBHOOK_ALLOW_PRIVATE, default false: let webhooks reach loopback, private, link-local,
   * CGNAT and cloud-metadata addresses. Off, a target resolving to one is refused at delivery.
   */
  webhookAllowPrivate: boolean;
  /** CHATPORT_WEBHOOK_MAX_ATTEMPTS, default 30: attempts to deliver one webhook event before giving up. */
  webhookMaxAttempts: number;
  /**
   * CHATPORT_WEBHOOK_RETRY_BASE_MS, default 10000: wait after a webhook's first failed attempt, doubled
   * after each further one up to an hour (30 attempts span about 21 hours).
   */
  webhookRetryBaseMillis: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'CHATPORT_PORT', 3030);
  const headersTimeoutMillis = integer(env, 'CHATPORT_HEADERS_TIMEOUT_MS', 20_000);
  const requestTimeoutMillis = integer(env, 'CHATPORT_REQUEST_TIMEOUT_MS', 120_000);
  if (headersTimeoutMillis > requestTimeoutMillis) {
    throw new Error('CHATPORT_HEADERS_TIMEOUT_MS must not be longer than CHATPORT_REQUEST_TIMEOUT_MS');
  }
  return {
    port,
    host: env.CHATPORT_HOST || '127.0.0.1',
    dataDir: path.resolve(env.CHATPORT_DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseReadUrl: env.CHATPORT_DATABASE_READ_URL || undefined,
    databasePoolSize: integer(env, 'CHATPORT_DATABASE_POOL_SIZE', 10),
    apiKey: env.CHATPORT_API_KEY || undefined,
    apiSecret: env.CHATPORT_API_SECRET || undefined,
    publicUrl: (env.CHATPORT_PUBLIC_URL || '').replace(/\/+$/, ''),
    logLevel: env.CHATPORT_LOG_LEVEL || 'info',
    bodyLimit: integer(env, 'CHATPORT_BODY_LIMIT', 1024 * 1024),
    headersTimeoutMillis,
    requestTimeoutMillis,
    keepAliveTimeoutMillis: integer(env, 'CHATPORT_KEEP_ALIVE_TIMEOUT_MS', 72_000),
    idleTimeoutMillis: integer(env, 'CHATPORT_IDLE_TIMEOUT_MS', 180_000),
    maxConnections: integer(env, 'CHATPORT_MAX_CONNECTIONS', 800),
    inProcessWorker: flag(env, 'CHATPORT_WORKER', true),
    workerConcurrency: integer(env, 'CHATPORT_WORKER_CONCURRENCY', 2),
    taskLeaseMillis: integer(env, 'CHATPORT_TASK_LEASE_MS', 30_000),
    taskPollMillis: integer(env, 'CHATPORT_TASK_POLL_MS', 50),
    maxTasksPerApp: integer(env, 'CHATPORT_MAX_TASKS_PER_APP', 100),
    exportCheckpointMillis: integer(env, 'CHATPORT_EXPORT_CHECKPOINT_MS', 2000),
    linkTtlHours: integer(env, 'CHATPORT_LINK_TTL_HOURS', 24),
    retentionDays: integer(env, 'CHATPORT_RETENTION_DAYS', 60),
    storageDriver: env.CHATPORT_STORAGE || 'local',
    s3Endpoint: env.CHATPORT_S3_ENDPOINT || undefined,
    s3ForcePathStyle: flag(env, 'CHATPORT_S3_FORCE_PATH_STYLE', Boolean(env.CHATPORT_S3_ENDPOINT)),
    s3Region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    s3Credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : undefined,
    s3PartSizeMb: integer(env, 'CHATPORT_S3_PART_SIZE_MB', 8),
    s3UploadConcurrency: integer(env, 'CHATPORT_S3_UPLOAD_CONCURRENCY', 2),
    webhookAllowPrivate: flag(env, 'CHATPORT_WEBHOOK_ALLOW_PRIVATE', false),
    webhookMaxAttempts: Math.max(1, Math.floor(integer(env, 'CHATPORT_WEBHOOK_MAX_ATTEMPTS', 30))),
    webhookRetryBaseMillis: integer(env, 'CHATPORT_WEBHOOK_RETRY_BASE_MS', 10_000),
  };
}
