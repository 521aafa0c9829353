import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from '../src/body.js';

describe('readBody', () => {
  it('gives up on a body that stops arriving, with a 400', async () => {
    const stream = new PassThrough();
    stream.write('{"secret":');
    const started = Date.now();
    await expect(readBody(() => stream, { contentLength: '100', transferEncoding: undefined }, 1000, 50)).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'The request body did not arrive in time.',
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('passes a stream error through and stops listening', async () => {
    const stream = new PassThrough();
    const reading = readBody(() => stream, { contentLength: undefined, transferEncoding: 'chunked' }, 1000);
    stream.destroy(new Error('connection reset'));
    await expect(reading).rejects.toThrow('connection reset');
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('never opens the stream when the declared length is over the limit or there is no body', async () => {
    let opened = 0;
    const open = () => {
      opened++;
      return new PassThrough();
    };
    await expect(readBody(open, { contentLength: '1001', transferEncoding: undefined }, 1000)).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(readBody(open, { contentLength: undefined, transferEncoding: undefined }, 1000)).resolves.toHaveLength(0);
    await expect(readBody(open, { contentLength: '0', transferEncoding: undefined }, 1000)).resolves.toHaveLength(0);
    expect(opened).toBe(0);
  });
});
