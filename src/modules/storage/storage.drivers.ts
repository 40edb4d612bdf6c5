import path from 'node:path';
import { createLocalDiskDriver } from './local-disk.driver.js';
import type { StorageDriver } from './storage.types.js';

export interface StorageConfig {
  /** CHATPORT_STORAGE: a name from `storageDrivers`. */
  storageDriver: string;
  dataDir: string;
}

/** The local driver's folder in the data dir. */
export const LOCAL_STORAGE_FOLDER = 'files';

/** Every storage driver by the name CHATPORT_STORAGE selects. */
export const storageDrivers: Record<string, (config: StorageConfig) => StorageDriver> = {
  /** Files under `<dataDir>/files`. */
  local: (config) => createLocalDiskDriver({ root: path.join(config.dataDir, LOCAL_STORAGE_FOLDER) }),
};

/** The driver the configuration names; an unknown name fails start-up, listing the known ones. */
export function createStorageDriver(config: StorageConfig): StorageDriver {
  const create = Object.hasOwn(storageDrivers, config.storageDriver)
    ? storageDrivers[config.storageDriver]
    : undefined;
  if (!create) {
    throw new Error(
      `CHATPORT_STORAGE must be one of ${Object.keys(storageDrivers).join(', ')}, got "${config.storageDriver}"`,
    );
  }
  return create(config);
}
