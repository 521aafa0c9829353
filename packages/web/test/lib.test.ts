import { describe, expect, it } from 'vitest';
import {
  InternalServerError,
  InvalidLinkError,
  InvalidPassphraseError,
  InvalidRequestError,
  PayloadTooLargeError,
  RateLimitedError,
  SecretNotFoundError,
  UnavailableError,
  VanishNetworkError,
  VanishProtocolError,
} from '@vanish/client';
import { checkSendForm, errorSentence, NOT_FOUND_SENTENCE } from '../src/lib/messages.js';
import { generatePassphrase, PASSPHRASE_ALPHABET, passphraseBits } from '../src/lib/passphrase.js';
import { characterCount, formatNumber, sizeLine, utf8Bytes } from '../src/lib/text.js';
import { formatDuration, formatExpiry, STANDARD_TTLS, ttlChoices } from '../src/lib/time.js';

const init = { status: 0, requestId: undefined, message: 'server sentence' };

describe('generatePassphrase', () => {
  it('makes 5 groups of 4 from the unambiguous alphabet, about 116 bits', () => {
    const p = generatePassphrase();
    expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{4}(-[a-km-zA-HJ-NP-Z2-9]{4}){4}$/);
    expect(PASSPHRASE_ALPHABET).toHaveLength(56);
    expect(new Set(PASSPHRASE_ALPHABET).size).toBe(56);
    expect(PASSPHRASE_ALPHABET).not.toMatch(/[lIoO01]/);
    expect(passphraseBits()).toBe(116);
    expect(passphraseBits({ groups: 2, groupSize: 3 })).toBe(34);
    expect(generatePassphrase({ groups: 2, groupSize: 3 })).toMatch(/^\w{3}-\w{3}$/);
  });

  it('differs every time (crypto.getRandomValues)', () => {
    const seen = new Set(Array.from({ length: 200 }, () => generatePassphrase()));
    expect(seen.size).toBe(200);
  });

  it('maps bytes uniformly: bytes >= 224 are rejected, the rest index modulo 56', () => {
    // First call: only rejectable bytes; second: 0, 55, 56, 223 then zeros.
    let call = 0;
    const random = (bytes: Uint8Array) => {
      bytes.fill(call === 0 ? 250 : 0);
      if (call === 1) bytes.set([0, 55, 56, 223]);
      call++;
      return bytes;
    };
    const p = generatePassphrase({ groups: 1, groupSize: 4 }, random);
    expect(call).toBe(2);
    expect(p).toBe(`${PASSPHRASE_ALPHABET[0]}${PASSPHRASE_ALPHABET[55]}${PASSPHRASE_ALPHABET[0]}${PASSPHRASE_ALPHABET[55]}`);
  });

  it('is close to uniform over many characters', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) for (const c of generatePassphrase().replaceAll('-', '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(56);
    const expected = 10_000 / 56;
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.45);
  });
});

describe('byte and character counts', () => {
  it('counts UTF-8 bytes like Buffer.byteLength', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€é\n', 'x\ud800y', '\udc00', 'end\ud83d']) {
      expect(utf8Bytes(s), JSON.stringify(s)).toBe(Buffer.byteLength(s));
    }
  });

  it('counts characters as code points', () => {
    expect(characterCount('a😀b')).toBe(3);
    expect(characterCount('\ud800')).toBe(1);
    expect(characterCount('')).toBe(0);
  });

  it('says how many bytes are left and when the secret is too large', () => {
    expect(sizeLine('é', 64, 'en-US')).toEqual({ text: '1 character · 2 of 64 bytes', over: false });
    expect(sizeLine('a'.repeat(70000), 65536, 'en-US')).toEqual({
      text: '70,000 characters · 70,000 of 65,536 bytes — too large by 4,464 bytes',
      over: true,
    });
    expect(formatNumber(1234567, 'de-DE')).toBe('1.234.567');
  });
});

describe('lifetimes', () => {
  it('names durations by their largest exact unit', () => {
    expect(formatDuration(60)).toBe('1 minute');
    expect(formatDuration(5400)).toBe('90 minutes');
    expect(formatDuration(86400 * 7)).toBe('7 days');
    expect(formatDuration(3600)).toBe('1 hour');
    expect(formatDuration(61)).toBe('61 seconds');
    expect(formatDuration(1)).toBe('1 second');
  });

  it('offers the standard choices within the default bounds, default preselected', () => {
    const choices = ttlChoices({ minTtl: 60, maxTtl: 30 * 86400, defaultTtl: 7 * 86400 });
    expect(choices.map((c) => c.seconds)).toEqual([...STANDARD_TTLS]);
    expect(choices.filter((c) => c.selected).map((c) => c.label)).toEqual(['7 days']);
    expect(choices.map((c) => c.label)).toEqual(['5 minutes', '1 hour', '1 day', '3 days', '7 days', '14 days', '30 days']);
  });

  it('keeps every choice within narrow bounds and adds an odd default', () => {
    const choices = ttlChoices({ minTtl: 600, maxTtl: 2 * 86400, defaultTtl: 5400 });
    expect(choices.map((c) => c.seconds)).toEqual([3600, 5400, 86400]);
    expect(choices.find((c) => c.selected)!.label).toBe('90 minutes');
    for (const c of choices) expect(c.seconds >= 600 && c.seconds <= 2 * 86400).toBe(true);
  });

  it('falls back to the bounds when no standard choice fits', () => {
    expect(ttlChoices({ minTtl: 100, maxTtl: 200, defaultTtl: 150 }).map((c) => c.seconds)).toEqual([100, 150, 200]);
    expect(ttlChoices({ minTtl: 120, maxTtl: 120, defaultTtl: 120 })).toEqual([{ seconds: 120, label: '2 minutes', selected: true }]);
  });

  it('shows the expiry in local time and how far away it is', () => {
    const now = Date.UTC(2026, 11, 2, 12, 0);
    const text = formatExpiry(new Date(now + 7 * 86400_000), now, 'en-GB', 'Europe/Paris');
    expect(text).toMatch(/^Wednesday,? 9 December 2026 at 13:00 \(in 7 days\)$/);
    expect(formatExpiry(new Date(now + 5 * 3600_000 + 60_000), now, 'en-GB', 'UTC')).toMatch(/at 17:01 \(in 5 hours\)$/);
    expect(formatExpiry(new Date(now + 290_000), now, 'en-GB', 'UTC')).toMatch(/\(in 5 minutes\)$/);
    expect(formatExpiry(new Date(now - 1000), now, 'en-GB', 'UTC')).toMatch(/\(in 1 minute\)$/);
    expect(formatExpiry(new Date(Date.now() + 3600_000))).toMatch(/\(in 1 hour\)$/);
  });
});

describe('error sentences', () => {
  it('a wrong passphrase says how many tries are left, and the last one that the secret is destroyed', () => {
    expect(errorSentence(new InvalidPassphraseError({ ...init, attemptsLeft: 3 }))).toEqual({
      text: 'Wrong passphrase. 3 tries left before the secret is destroyed.',
      final: false,
    });
    expect(errorSentence(new InvalidPassphraseError({ ...init, attemptsLeft: 1 })).text).toContain('1 try left');
    const last = errorSentence(new InvalidPassphraseError({ ...init, attemptsLeft: 0 }));
    expect(last.final).toBe(true);
    expect(last.text).toMatch(/last try: the secret is now destroyed/);
    expect(errorSentence(new InvalidPassphraseError(init))).toEqual({ text: 'Wrong passphrase. Check it and try again.', final: false });
  });

  it('every unreadable secret gets the one uniform sentence', () => {
    expect(errorSentence(new SecretNotFoundError(init))).toEqual({ text: NOT_FOUND_SENTENCE, final: true });
    expect(errorSentence(new InvalidLinkError('x')).final).toBe(true);
  });

  it('429, 503, 413, 400 and network failures are sentences, never JSON', () => {
    expect(errorSentence(new RateLimitedError({ ...init, retryAfterSeconds: 42 })).text).toBe(
      'Too many attempts from your network. Wait 42 seconds, then try again.',
    );
    expect(errorSentence(new RateLimitedError(init)).text).toContain('Wait a minute');
    expect(errorSentence(new UnavailableError(init)).text).toMatch(/busy or briefly unavailable/);
    expect(errorSentence(new PayloadTooLargeError(init), 65536).text).toMatch(/too large\. The limit is 65,536 bytes/);
    expect(errorSentence(new PayloadTooLargeError(init)).text).toBe('The secret is too large. Shorten it and try again.');
    expect(errorSentence(new InvalidRequestError(init)).text).toBe('The server refused this: server sentence');
    expect(errorSentence(new VanishNetworkError('x')).text).toMatch(/could not be reached/);
    for (const other of [new InternalServerError(init), new VanishProtocolError('x', 502), new Error('boom'), 'string']) {
      const s = errorSentence(other);
      expect(s).toEqual({ text: 'Something went wrong on the server. Nothing was changed; try again later.', final: false });
    }
  });
});

describe('checkSendForm', () => {
  const bounds = { maxSecretBytes: 10, passphraseMinChars: 8, passphraseMaxChars: 12 };
  it('asks for a secret, a size within the limit and a passphrase within its bounds', () => {
    expect(checkSendForm({ secret: ' \n', passphrase: 'p'.repeat(8), bytes: 2 }, bounds)?.field).toBe('secret');
    expect(checkSendForm({ secret: 'x', passphrase: 'p'.repeat(8), bytes: 11 }, bounds)?.text).toMatch(/at most 10 bytes/);
    expect(checkSendForm({ secret: 'x', passphrase: 'short', bytes: 1 }, bounds)?.field).toBe('passphrase');
    expect(checkSendForm({ secret: 'x', passphrase: '😀'.repeat(13), bytes: 1 }, bounds)?.text).toMatch(/8 to 12 characters/);
    expect(checkSendForm({ secret: 'x', passphrase: '😀'.repeat(12), bytes: 1 }, bounds)).toBeUndefined();
  });
});
