import crypto from 'node:crypto';

/**
 * Signed download links: `<publicUrl>/downloads/<appId>/<taskId>/<filename>?expires=<unix seconds>
 * &signature=<base64url HMAC-SHA256>`. The HMAC covers the app, the task, the file name and the
 * expiry, under the app's api_secret: no one without the secret can make or alter a link, and rotating
 * the secret invalidates every link issued before (clients ask for the task status again for a new one).
 * Pure: the caller hands in the time.
 */

export interface DownloadLinkFields {
  /** The app's numeric id (`apps.id`). */
  appId: number;
  taskId: string;
  /** The last segment of the task's file key. */
  filename: string;
  /** Unix seconds after which the link is refused. */
  expiresAtSeconds: number;
}

/** Why a link is refused: not shaped like one, signed with another key or for other fields, too old. */
export type DownloadLinkCheck =
  { valid: true } | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

// 32 bytes of HMAC in unpadded base64url.
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const EXPIRES = /^[1-9][0-9]{0,11}$/;

// Every status request signs a link: the secret's key object is made once, not per signature.
const MAX_SECRET_KEYS = 1000;
const secretKeys = new Map<string, crypto.KeyObject>();

function secretKey(secret: string): crypto.KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    if (secretKeys.size >= MAX_SECRET_KEYS) secretKeys.clear();
    key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  return key;
}

/** The signature of a link's fields under `secret`. */
export function downloadSignature(fields: DownloadLinkFields & { secret: string }): string {
  // A JSON array keeps the fields apart whatever characters a task id or file name holds.
  const message = JSON.stringify([
    'chatport-download-v1',
    fields.appId,
    fields.taskId,
    fields.filename,
    fields.expiresAtSeconds,
  ]);
  return crypto.createHmac('sha256', secretKey(fields.secret)).update(message).digest('base64url');
}

/** The full link for a task's file; `publicUrl` has no trailing slash (config guarantees it). */
export function signDownloadUrl(fields: DownloadLinkFields & { publicUrl: string; secret: string }): string {
  const { publicUrl, appId, taskId, filename, expiresAtSeconds } = fields;
  const signature = downloadSignature(fields);
  const path = `/downloads/${appId}/${encodeURIComponent(taskId)}/${encodeURIComponent(filename)}`;
  return `${publicUrl}${path}?expires=${expiresAtSeconds}&signature=${signature}`;
}

/**
 * Checks a link's query values against its path fields. The signature is compared in constant time,
 * and before the expiry, so a forged link learns nothing about which fields were wrong.
 */
export function verifyDownloadSignature({
  appId,
  taskId,
  filename,
  expires,
  signature,
  secret,
  nowSeconds,
}: {
  appId: number;
  taskId: string;
  filename: string;
  /** The `expires` query value as received: anything. */
  expires: unknown;
  /** The `signature` query value as received: anything. */
  signature: unknown;
  secret: string;
  nowSeconds: number;
}): DownloadLinkCheck {
  if (typeof expires !== 'string' || !EXPIRES.test(expires)) return { valid: false, reason: 'malformed' };
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
    return { valid: false, reason: 'malformed' };
  }
  const expiresAtSeconds = Number(expires);
  const expected = Buffer.from(downloadSignature({ appId, taskId, filename, expiresAtSeconds, secret }));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return { valid: false, reason: 'forged' };
  }
  if (nowSeconds >= expiresAtSeconds) return { valid: false, reason: 'expired' };
  return { valid: true };
}
