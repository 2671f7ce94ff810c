// The TOTP helper the browser tests log in with, checked against RFC 6238's own test vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, hotp, totp } from './lib/totp.mjs';

// RFC 6238 appendix B, SHA1 key "12345678901234567890" (base32 below), 8 digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('base32 decodes the RFC 6238 key', () => {
  assert.equal(base32Decode(RFC_SECRET).toString('latin1'), '12345678901234567890');
  assert.equal(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq').toString(), '12345678901234567890');
  assert.throws(() => base32Decode('A1'));
});

test('TOTP matches RFC 6238 SHA1 vectors (8 digits)', () => {
  for (const [t, code] of VECTORS) {
    assert.equal(totp(RFC_SECRET, t * 1000, { digits: 8 }), code, `T=${t}`);
  }
});

test('6-digit TOTP is the low 6 digits', () => {
  assert.equal(totp(RFC_SECRET, 59_000), '287082');
});

test('HOTP matches RFC 4226 appendix D', () => {
  const key = Buffer.from('12345678901234567890');
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, i) => assert.equal(hotp(key, i), code, `counter ${i}`));
});
