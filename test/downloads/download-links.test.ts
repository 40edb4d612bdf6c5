import { describe, expect, it } from 'vitest';
import {
  downloadSignature,
  signDownloadUrl,
  verifyDownloadSignature,
  type DownloadLinkFields,
} from '../../src/modules/downloads/download-links.js';

const fields: DownloadLinkFields = {
  appId: 12,
  taskId: '7d8e1c2a-5d0b-4f6c-9a51-0c3f1b2e4d6a',
  filename: 'channels.json',
  expiresAtSeconds: 1_700_086_400,
};
const secret = 'a-secret-of-the-app';
const now = 1_700_000_000;

function linkParts(url: string) {
  const parsed = new URL(url);
  const [, , appId, taskId, filename] = parsed.pathname.split('/');
  return {
    appId: Number(appId),
    taskId: decodeURIComponent(taskId!),
    filename: decodeURIComponent(filename!),
    expires: parsed.searchParams.get('expires') ?? undefined,
    signature: parsed.searchParams.get('signature') ?? undefined,
  };
}

describe('signed download links', () => {
  it('puts app, task, file name, expiry and signature in the URL', () => {
    const url = signDownloadUrl({ ...fields, publicUrl: 'https://chat.example.com', secret });
    expect(url).toBe(
      `https://chat.example.com/downloads/12/${fields.taskId}/channels.json` +
        `?expires=1700086400&signature=${downloadSignature({ ...fields, secret })}`,
    );
    expect(linkParts(url).signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts the link it signed until its expiry', () => {
    const link = linkParts(signDownloadUrl({ ...fields, publicUrl: 'http://x', secret }));
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: now })).toEqual({ valid: true });
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: fields.expiresAtSeconds - 1 })).toEqual({
      valid: true,
    });
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: fields.expiresAtSeconds })).toEqual({
      valid: false,
      reason: 'expired',
    });
  });

  it('round-trips task ids and file names that need escaping', () => {
    const odd = { ...fields, taskId: 'a/b c?d', filename: 'x#y.json' };
    const link = linkParts(signDownloadUrl({ ...odd, publicUrl: 'http://x', secret }));
    expect(link).toMatchObject({ taskId: 'a/b c?d', filename: 'x#y.json' });
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: now })).toEqual({ valid: true });
  });

  it.each([
    ['app id', { appId: 13 }],
    ['task id', { taskId: '7d8e1c2a-5d0b-4f6c-9a51-0c3f1b2e4d6b' }],
    ['file name', { filename: 'users.json' }],
    ['expiry', { expires: '1700086401' }],
    ['secret (rotated)', { secret: 'the-new-secret' }],
  ])('refuses a link whose %s changed', (_what, change) => {
    const link = linkParts(signDownloadUrl({ ...fields, publicUrl: 'http://x', secret }));
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: now, ...change })).toEqual({
      valid: false,
      reason: 'forged',
    });
  });

  it('refuses a signature that differs in any one character', () => {
    const link = linkParts(signDownloadUrl({ ...fields, publicUrl: 'http://x', secret }));
    const signature = link.signature!;
    for (let i = 0; i < signature.length; i++) {
      const swapped = signature[i] === 'A' ? 'B' : 'A';
      const tampered = signature.slice(0, i) + swapped + signature.slice(i + 1);
      expect(verifyDownloadSignature({ ...link, signature: tampered, secret, nowSeconds: now }).valid).toBe(
        false,
      );
    }
  });

  it.each([
    ['no expiry', { expires: undefined }],
    ['a non-numeric expiry', { expires: 'tomorrow' }],
    ['an expiry with leading zeros', { expires: '01700086400' }],
    ['an expiry given twice', { expires: ['1700086400', '1700086400'] }],
    ['no signature', { signature: undefined }],
    ['a short signature', { signature: 'abc' }],
    ['a signature with padding', { signature: `${'A'.repeat(42)}=` }],
    ['a hex signature', { signature: 'ab'.repeat(32) }],
  ])('refuses a link with %s as malformed', (_what, change) => {
    const link = linkParts(signDownloadUrl({ ...fields, publicUrl: 'http://x', secret }));
    expect(verifyDownloadSignature({ ...link, secret, nowSeconds: now, ...change })).toEqual({
      valid: false,
      reason: 'malformed',
    });
  });
});
