import { describe, expect, it } from 'vitest';
import { postgresUrl } from './helpers/databases.js';

// The PostgreSQL half of every suite needs TEST_DATABASE_URL. Without it those runs are skipped,
// visibly here; in CI (CI=true) a missing PostgreSQL is a failure, never a silent skip.
describe('PostgreSQL test database', () => {
  it.runIf(!postgresUrl && !process.env.CI)(
    'is not configured: PostgreSQL suites are SKIPPED (set TEST_DATABASE_URL)',
    () => {
      console.warn('chatport tests: TEST_DATABASE_URL is not set, so the PostgreSQL runs are skipped');
      expect(postgresUrl).toBeUndefined();
    },
  );
  it.runIf(Boolean(postgresUrl) || Boolean(process.env.CI))(
    'is configured, so every suite also runs on PostgreSQL',
    () => {
      expect(postgresUrl, 'CI must set TEST_DATABASE_URL').toBeTruthy();
    },
  );
});
