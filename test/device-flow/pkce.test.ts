import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newToken } from '../../src/device-flow/codes.js';
import { hkdf32 } from '../../src/device-flow/hkdf.js';
import { codeChallenge, codeVerifier, newState } from '../../src/device-flow/pkce.js';

const binding = () => newToken(32);

describe('codeChallenge (S256)', () => {
  test('matches RFC 7636 appendix B', () => {
    // The appendix's 32 random octets, base64url-encoded, give its verifier.
    const octets = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
      191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const verifier = Buffer.from(octets).toString('base64url');
    assert.equal(verifier, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    assert.equal(codeChallenge(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  test('is 43 characters of unpadded base64url', () => {
    assert.match(codeChallenge(codeVerifier(binding(), newState())), /^[A-Za-z0-9_-]{43}$/);
  });
});

describe('codeVerifier', () => {
  test('is 43 characters of base64url (RFC 7636 §4.1: 43–128 unreserved characters)', () => {
    for (let i = 0; i < 50; i++) assert.match(codeVerifier(binding(), newState()), /^[A-Za-z0-9_-]{43}$/);
  });

  test('is deterministic per binding and state, and differs when either differs', () => {
    const [b, state] = [binding(), newState()];
    assert.equal(codeVerifier(b, state), codeVerifier(b, state));
    assert.notEqual(codeVerifier(b, state), codeVerifier(b, newState()));
    assert.notEqual(codeVerifier(b, state), codeVerifier(binding(), state));
  });

  test('cannot be computed from what a URL shows: the state alone, or the state as key, gives another value', () => {
    const [b, state] = [binding(), newState()];
    const verifier = codeVerifier(b, state);
    assert.notEqual(verifier, state);
    assert.notEqual(codeChallenge(verifier), codeChallenge(state));
    // The former derivation (from the state alone) and the obvious variants of it.
    for (const info of ['postiz-cli-auth/v1/pkce-verifier', 'postiz-cli-auth/v2/pkce-verifier']) {
      assert.notEqual(verifier, hkdf32(state, info).toString('base64url'));
      assert.notEqual(verifier, hkdf32(state, info, Buffer.from(state)).toString('base64url'));
    }
  });
});

describe('newState', () => {
  test('is 256 bits of base64url and never repeats', () => {
    const states = new Set(Array.from({ length: 1000 }, newState));
    assert.equal(states.size, 1000);
    for (const state of [...states].slice(0, 20)) {
      assert.match(state, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(state, 'base64url').length, 32);
    }
  });
});
