import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from '../src/http/body.js';

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

  it('turns a stream error (a client gone mid-body) into a 400 and stops listening', async () => {
    const stream = new PassThrough();
    const reading = readBody(() => stream, { contentLength: undefined, transferEncoding: 'chunked' }, 1000);
    stream.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await expect(reading).rejects.toMatchObject({ name: 'HttpError', code: 'invalid_request', message: 'The request body was cut off.' });
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('refuses a body that ends short of its declared Content-Length', async () => {
    const stream = new PassThrough();
    const reading = readBody(() => stream, { contentLength: '100', transferEncoding: undefined }, 1000);
    stream.end('{"secret":"s","passphrase":"p"}');
    await expect(reading).rejects.toMatchObject({ code: 'invalid_request', message: 'The request body was cut off.' });
  });

  it('refuses a body whose stream closes before it ends, without waiting for the deadline', async () => {
    const stream = new PassThrough();
    const reading = readBody(() => stream, { contentLength: undefined, transferEncoding: 'chunked' }, 1000, 60_000);
    stream.write('{"passphrase":');
    stream.destroy();
    await expect(reading).rejects.toMatchObject({ code: 'invalid_request', message: 'The request body was cut off.' });
  });

  describe('wipes every chunk it was handed', () => {
    const feed = (chunks: Uint8Array[], headers: { contentLength?: string; transferEncoding?: string }, limit = 1000) => {
      const source = new EventEmitter() as EventEmitter & { pause(): void; resume(): void };
      source.pause = () => {};
      source.resume = () => {
        for (const c of chunks) source.emit('data', c);
        source.emit('end');
      };
      return readBody(() => source, { contentLength: headers.contentLength, transferEncoding: headers.transferEncoding }, limit);
    };
    const allZero = (chunks: Uint8Array[]) => chunks.every((c) => c.every((b) => b === 0));

    it('once the body is read (the returned copy is the caller’s)', async () => {
      const chunks = [Buffer.from('{"secret":'), new Uint8Array(Buffer.from('"s3cr3t"}'))];
      const body = await feed(chunks, { transferEncoding: 'chunked' });
      expect(body.toString()).toBe('{"secret":"s3cr3t"}');
      expect(allZero(chunks)).toBe(true);
    });

    it('when the body goes over the limit, the chunk that crossed it included', async () => {
      const chunks = [Buffer.from('{"secret":"'), new Uint8Array(Buffer.alloc(20, 0x61))];
      await expect(feed(chunks, { transferEncoding: 'chunked' }, 16)).rejects.toMatchObject({ code: 'payload_too_large' });
      expect(allZero(chunks)).toBe(true);
    });

    it('when the body is cut off', async () => {
      const chunks = [Buffer.from('{"secret":"s3cr3t"}')];
      await expect(feed(chunks, { contentLength: '100' })).rejects.toMatchObject({ code: 'invalid_request' });
      expect(allZero(chunks)).toBe(true);
    });
  });

  it('never opens the stream when the declared length is over the limit or there is no body', async () => {
    let opened = 0;
    const open = () => {
      opened++;
      return new PassThrough();
    };
    await expect(readBody(open, { contentLength: '1001', transferEncoding: undefined }, 1000)).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    await expect(readBody(open, { contentLength: undefined, transferEncoding: undefined }, 1000)).resolves.toHaveLength(0);
    await expect(readBody(open, { contentLength: '0', transferEncoding: undefined }, 1000)).resolves.toHaveLength(0);
    expect(opened).toBe(0);
  });
});
