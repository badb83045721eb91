import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { UserError } from '../core/errors.js';

/**
 * HTTP(S) GET for downloads: the proxy environment variables are honoured as curl does
 * (`https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY`, `no_proxy`/`NO_PROXY`; an http://
 * proxy, HTTPS through it with CONNECT), redirects are followed, and a connection that sends
 * nothing for `stallSeconds` is given up.
 */

/** The environment variables read here, and nothing else. */
export interface ProxyEnv {
  https_proxy?: string;
  HTTPS_PROXY?: string;
  http_proxy?: string;
  HTTP_PROXY?: string;
  no_proxy?: string;
  NO_PROXY?: string;
}

/** The proxy for `url` under `env`, or null to connect directly. */
export function proxyFor(url: URL, env: ProxyEnv = process.env): URL | null {
  const raw = url.protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  if (!raw || bypassed(url, env.no_proxy ?? env.NO_PROXY ?? '')) return null;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new UserError(`the proxy setting '${raw}' is not a URL (expected e.g. http://proxy.example:3128)`);
  }
  if (proxy.protocol !== 'http:') {
    throw new UserError(
      `the proxy ${raw} is not an http:// proxy; only http:// proxies are supported (HTTPS goes through them with CONNECT)`,
    );
  }
  return proxy;
}

/** NO_PROXY: `*`, or host names (a name also covers its subdomains; a leading dot is optional), optionally with `:port`. */
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/)) {
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase().replace(/^\[|\]$/g, ''))!;
    const name = m[1]!.replace(/^\*?\./, '');
    if (m[2] && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

export interface GetOptions {
  /** Give up when the connection sends nothing for this long (connecting included). */
  stallSeconds: number;
  signal?: AbortSignal;
  env?: ProxyEnv;
}

/** A failure worth another attempt: the network, a stall, HTTP 408, 429 or 5xx. */
export class TransientHttpError extends Error {}

const MAX_REDIRECTS = 10;

/**
 * GETs `url` and resolves with a 2xx response (its body is the caller's to consume). Other
 * statuses reject: a {@link TransientHttpError} for those worth retrying, else a plain Error.
 */
export async function httpGet(url: string, options: GetOptions): Promise<IncomingMessage> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const res = await getOnce(current, options);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && redirects < MAX_REDIRECTS) {
      res.resume();
      current = new URL(location, current);
      continue;
    }
    if (status >= 200 && status < 300) return res;
    res.resume();
    const message = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
    throw status === 408 || status === 429 || status >= 500 ? new TransientHttpError(message) : new Error(message);
  }
}

function getOnce(url: URL, options: GetOptions): Promise<IncomingMessage> {
  const proxy = proxyFor(url, options.env);
  const path = `${url.pathname}${url.search}`;
  const headers = { 'user-agent': 'instrumentation-infra', accept: '*/*' };
  const base: RequestOptions = { method: 'GET', headers, signal: options.signal };
  if (!proxy) {
    const direct = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return send(() => direct(url, base), options, url.href);
  }
  const auth = proxyAuthorization(proxy);
  if (url.protocol === 'http:') {
    // a plain HTTP request through a proxy names the whole URL
    const proxied = { ...headers, host: url.host, ...auth };
    return send(
      () => httpRequest({ ...base, host: proxy.hostname, port: proxy.port || 80, path: url.href, headers: proxied }),
      options,
      url.href,
    );
  }
  return tunnel(url, proxy, auth, options).then((socket) =>
    send(
      () => httpsRequest({ ...base, host: url.hostname, port: url.port || 443, path, createConnection: () => socket }),
      options,
      url.href,
    ),
  );
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** A TLS connection to `url`'s host through the proxy's CONNECT tunnel. */
function tunnel(url: URL, proxy: URL, auth: Record<string, string>, options: GetOptions) {
  const target = `${url.hostname}:${url.port || 443}`;
  return new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
    const req = httpRequest({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...auth },
      signal: options.signal,
    });
    req.setTimeout(options.stallSeconds * 1000, () => req.destroy(stalled(options.stallSeconds)));
    req.once('error', (e) => reject(classify(e, `proxy ${proxy.host}`, options)));
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const message = `the proxy ${proxy.host} refused to connect to ${target}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim();
        reject(
          res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504 ? new TransientHttpError(message) : new Error(message),
        );
        return;
      }
      resolve(tlsConnect({ socket, servername: url.hostname }));
    });
    req.end();
  });
}

function stalled(seconds: number): TransientHttpError {
  return new TransientHttpError(`no data for ${seconds} s (the transfer stalled)`);
}

/** Sends the request; the stall timer covers the response body too (it is the socket's idle time). */
function send(make: () => import('node:http').ClientRequest, options: GetOptions, url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = make();
    let response: IncomingMessage | undefined;
    req.setTimeout(options.stallSeconds * 1000, () => {
      const error = stalled(options.stallSeconds);
      // the body's reader gets this error rather than a bare 'aborted'
      response?.destroy(error);
      req.destroy(error);
    });
    req.once('error', (e) => reject(classify(e, url, options)));
    req.once('response', (res) => resolve((response = res)));
    req.end();
  });
}

/** Network errors that a later attempt may not have (a refused connection or an unknown host fails at once). */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

function classify(e: Error, where: string, options: GetOptions): Error {
  if (e instanceof TransientHttpError || options.signal?.aborted) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const message = `${code && !e.message.includes(code) ? `${code}: ` : ''}${e.message} (${where.includes('://') ? new URL(where).host : where})`;
  return code && TRANSIENT_CODES.has(code) ? new TransientHttpError(message) : new Error(message);
}
