import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashSecret, newDeviceCode } from '../../src/device-flow/codes.js';
import { open, recipientKey, recipientKeyOffThread, seal } from '../../src/device-flow/seal.js';

// Layout: version(1) ‖ ephemeral public key(32) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
const HEADER = 1 + 32 + 12 + 16;
const TOKEN = JSON.stringify({ access_token: 'pos_0123456789abcdefghij', organization_id: 'org_1' });

/** A device code, its hash (the context) and a token sealed to it. */
function sealed(plaintext = TOKEN) {
  const deviceCode = newDeviceCode();
  const context = hashSecret(deviceCode);
  return { deviceCode, context, blob: seal(plaintext, recipientKey(deviceCode), context) };
}

describe('recipientKey', () => {
  test('is a 32-byte X25519 key, the same for the same device code', () => {
    const code = newDeviceCode();
    const key = recipientKey(code);
    assert.equal(key.length, 32);
    assert.deepEqual(recipientKey(code), key);
    assert.notDeepEqual(recipientKey(newDeviceCode()), key);
  });

  test('does not contain the device code', () => {
    const code = newDeviceCode();
    assert.notDeepEqual(recipientKey(code), Buffer.from(code, 'base64url'));
  });
});

describe('recipientKeyOffThread', () => {
  test("is recipientKey's 32 bytes, for 200 codes asked for at once (one batch) and one by one", async () => {
    const codes = Array.from({ length: 200 }, () => newDeviceCode());
    const together = await Promise.all(codes.map((code) => recipientKeyOffThread(code)));
    assert.deepEqual(together, codes.map(recipientKey));
    for (const code of codes.slice(0, 5))
      assert.deepEqual(await recipientKeyOffThread(code), recipientKey(code));
  });

  test('a token sealed to the key it gives opens with the device code', async () => {
    const deviceCode = newDeviceCode();
    const context = hashSecret(deviceCode);
    const blob = seal(TOKEN, await recipientKeyOffThread(deviceCode), context);
    assert.equal(open(blob, deviceCode, context), TOKEN);
  });
});

describe('seal and open', () => {
  test('round trip with the same device code and context', () => {
    const { deviceCode, context, blob } = sealed();
    assert.equal(open(blob, deviceCode, context), TOKEN);
  });

  test('round trip of empty, unicode and long plaintexts', () => {
    for (const text of ['', 'é∑🔑 tökén', 'x'.repeat(10_000)]) {
      const { deviceCode, context, blob } = sealed(text);
      assert.equal(open(blob, deviceCode, context), text);
    }
  });

  test('the blob is the header plus the plaintext length, and holds no plaintext', () => {
    const { blob } = sealed();
    assert.equal(blob.length, HEADER + Buffer.byteLength(TOKEN));
    assert.equal(blob[0], 1, 'version byte');
    assert.equal(blob.includes(Buffer.from('pos_')), false);
    assert.equal(blob.includes(Buffer.from('access_token')), false);
  });

  test('two seals of the same token to the same key differ', () => {
    const deviceCode = newDeviceCode();
    const context = hashSecret(deviceCode);
    const a = seal(TOKEN, recipientKey(deviceCode), context);
    const b = seal(TOKEN, recipientKey(deviceCode), context);
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(a.subarray(1, 33), b.subarray(1, 33), 'fresh ephemeral key each time');
    assert.equal(open(a, deviceCode, context), TOKEN);
    assert.equal(open(b, deviceCode, context), TOKEN);
  });

  test('open with another device code throws', () => {
    const { context, blob } = sealed();
    assert.throws(() => open(blob, newDeviceCode(), context));
  });

  test('open with the right device code but another context throws (no moving blobs between rows)', () => {
    const { deviceCode, blob } = sealed();
    assert.throws(() => open(blob, deviceCode, hashSecret(newDeviceCode())));
    assert.throws(() => open(blob, deviceCode, Buffer.alloc(0)));
  });

  test('a change to any single byte makes open throw', () => {
    const { deviceCode, context, blob } = sealed();
    for (let i = 0; i < blob.length; i++) {
      const tampered = Buffer.from(blob);
      tampered[i] = tampered[i]! ^ 0x01;
      assert.throws(() => open(tampered, deviceCode, context), `byte ${i} flipped`);
    }
  });

  test('a truncated or extended blob throws', () => {
    const { deviceCode, context, blob } = sealed();
    assert.throws(() => open(blob.subarray(0, blob.length - 1), deviceCode, context));
    assert.throws(() => open(blob.subarray(0, HEADER - 1), deviceCode, context), /unknown format/);
    assert.throws(() => open(Buffer.alloc(0), deviceCode, context), /unknown format/);
    assert.throws(() => open(Buffer.concat([blob, Buffer.of(0)]), deviceCode, context));
  });

  test('an unknown version byte is refused as an unknown format', () => {
    const { deviceCode, context, blob } = sealed();
    const other = Buffer.from(blob);
    other[0] = 2;
    assert.throws(() => open(other, deviceCode, context), /unknown format/);
  });
});
