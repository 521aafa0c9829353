import type { BodySource } from './body.js';

/** A request as both HTTP engines hand it to the API. */
export interface ApiRequest {
  /** upper-case method */
  method: string;
  /** path without the query string, not decoded */
  path: string;
  /** raw query string without `?` */
  query: string;
  /** a header by lower-case name */
  header(name: string): string | undefined;
  /** opens the body stream, or hands over the whole body when it has already arrived (read only through `readBody`) */
  body(): BodySource | Uint8Array[];
  /** the peer's IP address */
  remoteAddress: string;
}

/** What an engine writes back. */
export interface ApiReply {
  status: number;
  headers: Record<string, string>;
  /** serialized JSON (or a page), or `''` for HEAD */
  body: string | Buffer;
}

/** The API as the engines call it: never rejects. */
export type ApiHandler = (req: ApiRequest) => Promise<ApiReply>;
