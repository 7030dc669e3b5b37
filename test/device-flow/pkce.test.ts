import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeChallenge, codeVerifier, newState } from '../../src/device-flow/pkce.js';

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
    assert.match(codeChallenge(codeVerifier(newState())), /^[A-Za-z0-9_-]{43}$/);
  });
});

describe('codeVerifier', () => {
  test('is 43 characters of base64url (RFC 7636 §4.1: 43–128 unreserved characters)', () => {
    for (let i = 0; i < 50; i++) assert.match(codeVerifier(newState()), /^[A-Za-z0-9_-]{43}$/);
  });

  test('is deterministic per state, and differs between states', () => {
    const state = newState();
    assert.equal(codeVerifier(state), codeVerifier(state));
    assert.notEqual(codeVerifier(state), codeVerifier(newState()));
  });

  test('is not the state itself, nor its challenge', () => {
    const state = newState();
    assert.notEqual(codeVerifier(state), state);
    assert.notEqual(codeChallenge(codeVerifier(state)), codeChallenge(state));
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
