import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatUserCode,
  hashSecret,
  isWellFormedDeviceCode,
  newDeviceCode,
  newToken,
  newUserCode,
  normalizeUserCode,
  randomFromPool,
  safeEqual,
  USER_CODE_ALPHABET,
  USER_CODE_LENGTH,
} from '../../src/device-flow/codes.js';

const SAMPLES = 2000;

describe('user codes', () => {
  test('the alphabet is RFC 8628 §6.1 base-20: consonants only, no digits', () => {
    assert.equal(USER_CODE_ALPHABET, 'BCDFGHJKLMNPQRSTVWXZ');
    assert.equal(new Set(USER_CODE_ALPHABET).size, 20);
    assert.doesNotMatch(USER_CODE_ALPHABET, /[AEIOUY0-9]/);
    assert.equal(USER_CODE_LENGTH, 8);
  });

  test('new codes are 8 characters of the alphabet, and use all of it', () => {
    const seen = new Set<string>();
    for (let i = 0; i < SAMPLES; i++) {
      const code = newUserCode();
      assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const ch of code) seen.add(ch);
    }
    // 16,000 draws: each letter is expected 800 times, so a missing one means a broken generator.
    assert.equal(seen.size, 20);
  });

  test('new codes are not repeated', () => {
    const codes = new Set(Array.from({ length: SAMPLES }, newUserCode));
    // 2000 draws from 20^8 (2.56e10): a collision has probability ~1e-4.
    assert.ok(codes.size >= SAMPLES - 1);
  });

  test('formatting shows XXXX-XXXX', () => {
    assert.equal(formatUserCode('BCDFGHJK'), 'BCDF-GHJK');
    for (let i = 0; i < 100; i++) assert.match(formatUserCode(newUserCode()), /^[B-Z]{4}-[B-Z]{4}$/);
  });
});

describe('normalizeUserCode', () => {
  const accepted: Array<[string, string]> = [
    ['BCDF-GHJK', 'exact'],
    ['BCDFGHJK', 'no dash'],
    ['bcdf-ghjk', 'lower case'],
    ['bCdF-gHjK', 'mixed case'],
    [' BCDF GHJK ', 'spaces'],
    ['bcdf ghjk', 'lower case and a space'],
    ['BCDF--GHJK', 'two dashes'],
    ['B-C-D-F-G-H-J-K', 'dashes everywhere'],
    ['\tBCDF\u2013GHJK\n', 'tab, en dash, newline'],
  ];
  for (const [input, why] of accepted) {
    test(`accepts ${JSON.stringify(input)} (${why})`, () => {
      assert.equal(normalizeUserCode(input), 'BCDFGHJK');
    });
  }

  test('round-trips every generated code through its displayed form', () => {
    for (let i = 0; i < 200; i++) {
      const code = newUserCode();
      assert.equal(normalizeUserCode(formatUserCode(code)), code);
      assert.equal(normalizeUserCode(formatUserCode(code).toLowerCase()), code);
    }
  });

  const refused: Array<[unknown, string]> = [
    ['BCDF-GHJA', 'a vowel'],
    ['ECDF-GHJK', 'a leading vowel'],
    ['BCDF-GHJY', 'Y'],
    ['BCDF-GHJ', 'too short'],
    ['BCDF-GHJKL', 'too long'],
    ['BCDF-GHJK-BCDF', 'far too long'],
    [`BCDF-GHJK${' '.repeat(64)}`, 'over 64 characters'],
    ['', 'empty'],
    ['----', 'only dashes'],
    [12345678, 'a number'],
    [['BCDF-GHJK'], 'an array'],
    [undefined, 'undefined'],
    [null, 'null'],
  ];
  for (const [input, why] of refused) {
    test(`refuses ${JSON.stringify(input)} (${why})`, () => {
      assert.equal(normalizeUserCode(input), undefined);
    });
  }
});

describe('device codes', () => {
  test('are 256 bits of base64url: 43 characters that decode to 32 bytes', () => {
    for (let i = 0; i < 100; i++) {
      const code = newDeviceCode();
      assert.match(code, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(code, 'base64url').length, 32);
      assert.equal(Buffer.from(code, 'base64url').toString('base64url'), code);
    }
  });

  test('are never repeated', () => {
    const codes = new Set(Array.from({ length: SAMPLES }, newDeviceCode));
    assert.equal(codes.size, SAMPLES);
  });

  test('use the whole base64url alphabet (they are random bytes, not text)', () => {
    const seen = new Set(Array.from({ length: 200 }, newDeviceCode).join(''));
    assert.equal(seen.size, 64);
  });

  test('isWellFormedDeviceCode accepts ours and refuses what cannot be one', () => {
    assert.ok(isWellFormedDeviceCode(newDeviceCode()));
    assert.ok(isWellFormedDeviceCode('a'.repeat(128)));
    for (const bad of [
      '',
      'a'.repeat(129),
      'abc+def',
      'abc/def',
      'abc=',
      'a b',
      42,
      null,
      undefined,
      ['x'],
      {},
    ]) {
      assert.equal(isWellFormedDeviceCode(bad), false, `refuses ${JSON.stringify(bad)}`);
    }
  });

  test('newToken gives the asked-for entropy in base64url', () => {
    assert.equal(Buffer.from(newToken(), 'base64url').length, 32);
    assert.equal(Buffer.from(newToken(12), 'base64url').length, 12);
    assert.match(newToken(12), /^[A-Za-z0-9_-]{16}$/);
  });
});

describe('hashing and comparing', () => {
  test('hashSecret is SHA-256: 32 bytes, deterministic, different per input', () => {
    const code = newDeviceCode();
    assert.equal(hashSecret(code).length, 32);
    assert.deepEqual(hashSecret(code), hashSecret(code));
    assert.notDeepEqual(hashSecret(code), hashSecret(newDeviceCode()));
    assert.equal(
      hashSecret('abc').toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  test('safeEqual compares bytes, and different lengths are unequal', () => {
    assert.ok(safeEqual(Buffer.from('abc'), Buffer.from('abc')));
    assert.equal(safeEqual(Buffer.from('abc'), Buffer.from('abd')), false);
    assert.equal(safeEqual(Buffer.from('abc'), Buffer.from('abcd')), false);
    assert.equal(safeEqual(Buffer.alloc(0), Buffer.from('a')), false);
  });
});

describe('randomFromPool', () => {
  test('gives fresh bytes of the asked length across pool refills, and never the same twice', () => {
    const seen = new Set<string>();
    // 300 × 32 bytes crosses the 4 KiB pool twice.
    for (let i = 0; i < 300; i++) {
      const bytes = randomFromPool(32);
      assert.equal(bytes.length, 32);
      const hex = bytes.toString('hex');
      assert.ok(!seen.has(hex), 'a repeat');
      seen.add(hex);
    }
    assert.equal(randomFromPool(5000).length, 5000);
  });

  test('what it gave is a copy: changing it changes nothing that comes later', () => {
    const a = randomFromPool(16);
    a.fill(0);
    assert.notDeepEqual(randomFromPool(16), Buffer.alloc(16));
  });
});
