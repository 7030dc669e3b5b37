/** The keys limits count addresses under (src/device-flow/addresses.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, sameNetwork, siteKey } from '../../src/device-flow/addresses.js';

test('an IPv4-mapped IPv6 address counts as its IPv4 address, however it is written', () => {
  for (const written of [
    '::ffff:192.0.2.1',
    '::FFFF:192.0.2.1',
    '::ffff:c000:201',
    '0:0:0:0:0:ffff:192.0.2.1',
    '0:0:0:0:0:ffff:c000:0201',
  ]) {
    assert.equal(addressKey(written), '192.0.2.1', written);
    assert.equal(siteKey(written), '192.0.2.1', written);
  }
  assert.ok(sameNetwork('::ffff:c000:201', '192.0.2.77'));
});

test('IPv6 counts per /64 and per /48, however the address is written', () => {
  for (const written of ['2001:db8:1:2::5', '2001:0db8:0001:0002:0:0:0:5', '2001:DB8:1:2:0::5%eth0']) {
    assert.equal(addressKey(written), '2001:db8:1:2::/64', written);
    assert.equal(siteKey(written), '2001:db8:1::/48', written);
  }
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  // Not mapped: the same low bits under another prefix stay IPv6.
  assert.equal(siteKey('64:ff9b::c000:201'), '64:ff9b:0::/48');
});
