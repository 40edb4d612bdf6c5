import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { createLocalDiskDriver } from './local-disk.driver.js';
import { validateStorageKey } from './storage.keys.js';
import type { StorageDriver } from './storage.types.js';

export type StorageConfig = Pick<
  Config,
  | 'storageDriver'
  | 'dataDir'
  | 'linkTtlHours'
  | 's3Endpoint'
  | 's3ForcePathStyle'
  | 's3Region'
  | 's3Credentials'
  | 's3PartSizeMb'
  | 's3UploadConcurrency'
>;

/** What a driver factory is given: the whole CHATPORT_STORAGE value and the settings around it. */
interface DriverSetup {
  location: string;
  config: StorageConfig;
  logger: Pick<Logger, 'warn'>;
}

/** The local driver's folder in the data dir. */
export const LOCAL_STORAGE_FOLDER = 'files';

/** S3 accepts presigned links valid for at most 7 days. */
const MAX_PRESIGNED_HOURS = 7 * 24;
const MIB = 1024 * 1024;

/** `s3://bucket/some/prefix` → the bucket and `some/prefix/` (or `''`). */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]+)\/?([^?#]*)$/.exec(location);
  if (!match || !/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(match[1]!)) {
    throw new Error(`CHATPORT_STORAGE: "${location}" is not s3://bucket or s3://bucket/prefix`);
  }
  const folders = match[2]!.replace(/\/+$/, '');
  if (folders !== '') validateStorageKey(folders);
  return { bucket: match[1]!, prefix: folders === '' ? '' : `${folders}/` };
}

interface DriverEntry {
  /** How CHATPORT_STORAGE names it. */
  form: string;
  create(setup: DriverSetup): Promise<StorageDriver>;
}

/**
 * Every storage driver by the name or URL scheme CHATPORT_STORAGE gives: `local`, or
 * `s3://bucket/prefix`. The S3 driver (and the AWS SDK) is loaded only when chosen.
 */
export const storageDrivers: Record<string, DriverEntry> = {
  local: {
    form: 'local',
    /** Files under `<dataDir>/files`. */
    create: async ({ config }) =>
      createLocalDiskDriver({ root: path.join(config.dataDir, LOCAL_STORAGE_FOLDER) }),
  },
  s3: {
    form: 's3://bucket/prefix',
    /** Objects in an S3 bucket (or an S3-compatible store at CHATPORT_S3_ENDPOINT). */
    create: async ({ location, config, logger }) => {
      if (config.linkTtlHours > MAX_PRESIGNED_HOURS) {
        throw new Error(`CHATPORT_LINK_TTL_HOURS must be at most ${MAX_PRESIGNED_HOURS} with S3 storage`);
      }
      if (config.s3PartSizeMb < 5) throw new Error('CHATPORT_S3_PART_SIZE_MB must be at least 5');
      if (!Number.isInteger(config.s3UploadConcurrency) || config.s3UploadConcurrency < 1) {
        throw new Error('CHATPORT_S3_UPLOAD_CONCURRENCY must be a positive integer');
      }
      const { createS3Driver } = await import('./s3.driver.js');
      return createS3Driver({
        ...parseS3Location(location),
        endpoint: config.s3Endpoint,
        region: config.s3Region,
        credentials: config.s3Credentials,
        forcePathStyle: config.s3ForcePathStyle,
        sizing: {
          partSize: Math.round(config.s3PartSizeMb * MIB),
          concurrency: config.s3UploadConcurrency,
        },
        warn: (message, details) => logger.warn(details ?? {}, message),
      });
    },
  },
};

/** The driver the configuration names; an unknown one fails start-up, listing the known forms. */
export async function createStorageDriver(
  config: StorageConfig,
  logger: Pick<Logger, 'warn'>,
): Promise<StorageDriver> {
  const location = config.storageDriver;
  const name = /^([a-z0-9]+):\/\//.exec(location)?.[1] ?? location;
  const entry = Object.hasOwn(storageDrivers, name) ? storageDrivers[name] : undefined;
  if (!entry) {
    const forms = Object.values(storageDrivers).map((driver) => driver.form);
    throw new Error(`CHATPORT_STORAGE must be one of ${forms.join(', ')}, got "${location}"`);
  }
  return entry.create({ location, config, logger });
}
