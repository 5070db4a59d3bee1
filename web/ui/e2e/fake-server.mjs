// A stand-in for the leadcap backend, for front-end smoke checks only: serves dist/ with the
// production CSP and fakes POST /api/leads/ (JSON and the no-JS form post). The real contract is
// shared/api.md and the real server is `leadcap serve`; e2e/landing.mjs must pass against that.
//
//   node e2e/fake-server.mjs            # PORT=4173 by default
//   FAKE_RATE_LIMIT=1 ...               # every POST answers 429 (Retry-After: 30)
//   LOCALE=en ...                       # serve dist/index.en.html at / (default: dist/index.html, Persian)
//   PAGE_FILE=/tmp/page.html ...        # serve this file at / instead (a page leadcap filled at run time)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const port = Number(process.env.PORT ?? 4173);
const host = process.env.HOST ?? '127.0.0.1';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};
const INDEX = process.env.LOCALE ? `/index.${process.env.LOCALE}.html` : '/index.html';

const seen = new Map(); // phone -> id (dedupe)

function toAscii(s) {
  return s.replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0)).replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660));
}

// A deliberately small copy of the IR mobile rule (the real one lives in the Python backend).
function normalise(phone) {
  if (phone === undefined || phone === null || (typeof phone === 'string' && phone.trim() === '')) return { code: 'missing_phone' };
  if (typeof phone !== 'string' || phone.length > 32) return { code: 'invalid_phone' };
  const s = toAscii(phone).replace(/[\s\-().]/g, '');
  const m = /^(?:\+98|0098|0|98(?=9\d{9}$))?(\d{10})$/.exec(s);
  if (!m) return { code: 'invalid_phone' };
  if (m[1].startsWith('9')) return { e164: `+98${m[1]}` };
  if (/^[1-8]/.test(m[1])) return { code: 'not_mobile' };
  return { code: 'invalid_phone' };
}

const MESSAGES = {
  missing_phone: 'Please enter a phone number.',
  invalid_phone: 'This does not look like a valid phone number.',
  not_mobile: 'Please enter a mobile number, not a landline.',
};

function send(res, status, body, headers = {}) {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-ID': randomUUID(), ...headers });
  res.end(json);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function handleLead(req, res) {
  if (req.method !== 'POST') return send(res, 405, { error: { code: 'method_not_allowed', message: 'Method not allowed.' } });
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  const raw = await readBody(req);
  const rate = { 'RateLimit-Limit': '10', 'RateLimit-Remaining': '9', 'RateLimit-Reset': '60' };
  if (process.env.FAKE_RATE_LIMIT) {
    return send(res, 429, { error: { code: 'rate_limited', message: 'Too many requests.' } }, { ...rate, 'Retry-After': '30' });
  }
  let fields;
  if (type === 'application/json') {
    try {
      fields = JSON.parse(raw);
    } catch {
      return send(res, 400, { error: { code: 'invalid_body', message: 'The request body is not valid JSON.' } }, rate);
    }
  } else if (type === 'application/x-www-form-urlencoded') {
    fields = Object.fromEntries(new URLSearchParams(raw));
  } else {
    return send(res, 415, { error: { code: 'unsupported_media_type', message: 'Send JSON.' } }, rate);
  }
  const result = normalise(fields.phone);
  if (result.code) {
    if (type !== 'application/json') {
      res.writeHead(422, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end(MESSAGES[result.code]);
    }
    return send(res, 422, { error: { code: result.code, message: MESSAGES[result.code], field: 'phone' } }, rate);
  }
  const duplicate = seen.has(result.e164);
  if (!duplicate) seen.set(result.e164, randomUUID());
  console.error(`fake-server: lead ${result.e164}${duplicate ? ' (duplicate)' : ''} via ${type}`);
  if (type !== 'application/json') {
    res.writeHead(303, { Location: '/?submitted=1', ...rate });
    return res.end();
  }
  return send(res, 202, { id: seen.get(result.e164), status: 'queued', phone: result.e164, duplicate }, rate);
}

async function handleStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  let file = url.pathname === '/' ? INDEX : decodeURIComponent(url.pathname);
  file = path.join(dist, path.normalize(file).replace(/^(\.\.[/\\])+/, ''));
  if (!file.startsWith(dist)) return send(res, 404, { error: { code: 'not_found', message: 'Not found.' } });
  if (url.pathname === '/' && process.env.PAGE_FILE) file = path.resolve(process.env.PAGE_FILE);
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    const body = await readFile(file);
    const headers = {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
    };
    if (file.endsWith('.html')) Object.assign(headers, { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'strict-origin-when-cross-origin' });
    if (url.pathname.startsWith('/assets/')) headers['Cache-Control'] = 'public, max-age=31536000, immutable';
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }
}

createServer((req, res) => {
  const pathname = new URL(req.url, 'http://x').pathname;
  const handler = pathname === '/api/leads/' || pathname === '/api/leads' ? handleLead : handleStatic;
  handler(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, { error: { code: 'internal', message: 'Internal error.' } });
  });
}).listen(port, host, () => console.error(`fake-server: http://${host}:${port}/ serving ${dist}`));
