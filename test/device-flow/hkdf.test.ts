import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { hkdf32 } from '../../src/device-flow/hkdf.js';

test('hkdf32 gives the bytes of hkdfSync (RFC 5869), with and without a salt', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.uint8Array({ maxLength: 80 })),
      fc.uint8Array({ maxLength: 64 }),
      fc.string(),
      (ikm, salt, info) => {
        const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
        assert.deepEqual(hkdf32(ikm, info, salt), expected);
      },
    ),
  );
});

test('hkdf32 matches RFC 5869 test case 1', () => {
  const ikm = Buffer.alloc(22, 0x0b);
  const salt = Buffer.from('000102030405060708090a0b0c', 'hex');
  const info = Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex');
  assert.equal(
    hkdf32(ikm, info, salt).toString('hex'),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf',
  );
});
