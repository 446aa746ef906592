// The OpenID Provider the single sign-on tests (and a local `make run`) sign in through: the
// certified `oidc-provider` package, installed by `make sso-provider` into
// .cache/oidc-provider (see tests/support/oidc_harness.py), with a plain sign-in page and
// test knobs of its own.
//
//   node tests/support/oidc_provider/provider.mjs --port 18110 \
//     --client-id attn --client-secret attn-local-secret \
//     --redirect-uri http://127.0.0.1:8000/sso/oidc/callback [--tenants t1,t2]
//
// Issuer http://127.0.0.1:<port>. With --tenants, each tenant is an issuer of its own,
// http://127.0.0.1:<port>/<tenant>/v2.0 (its ID tokens carry `tid`), and
// http://127.0.0.1:<port>/common/v2.0 is a multi-tenant issuer as Microsoft Entra's is: its
// discovery document names the issuer `.../{tenantid}/v2.0`, and its sign-ins are made by the
// "home" tenant (the first, or the one POST /_control/home-tenant names).
//
// The sign-in page (/interaction/<uid>) takes any account name and signs it in with consent
// to the requested scopes; its claims are what POST /_control/accounts stored for it
// ({"id": "...", "claims": {...}}), besides `sub` (an account never stored there has only
// `preferred_username`, its name: type T1001 to be the demo teacher of `make run`). A second registered client, `other-app`
// (secret `other-secret`, the same redirect URIs), stands for another site's application.
//
// Test knobs (POST, JSON body), for attacks as they happen in the wild:
//   /_control/clock        {"offset": seconds}  this provider's clock runs that far off
//   /_control/rotate       {}                   new signing key; the old one is gone
//   /_control/substitute   {"id_token": "..."}  the next token response carries this ID token
//   /_control/tamper       {"part": "signature" | "kid"}  the next ID token's signature bytes
//                                                altered, or its header naming an unknown key
//   /_control/home-tenant  {"tenant": "..."}
//   /_control/reset        {}                   all of the above back to normal (keys stay)
// GET /_control/stats counts the discovery, key set and token requests served;
// /mirror/.well-known/openid-configuration is the root provider's document copied to an
// address that is not its issuer.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '18110' },
    'client-id': { type: 'string', default: 'attn' },
    'client-secret': { type: 'string', default: 'attn-local-secret' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    tenants: { type: 'string', default: '' },
    modules: {
      type: 'string',
      default: process.env.OIDC_PROVIDER_MODULES
        || resolve(here, '../../../.cache/oidc-provider/node_modules'),
    },
  },
});

// oidc-provider lives in the cache folder, not beside this file: import it from there
const packageDir = join(args.modules, 'oidc-provider');
const { main } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const { default: Provider, errors } = await import(pathToFileURL(join(packageDir, main)).href);

// the clock knob: oidc-provider reads the time through Date.now
let clockOffset = 0;
const realNow = Date.now;
Date.now = () => realNow() + clockOffset * 1000;

const origin = `http://${args.host}:${args.port}`;
const tenants = args.tenants.split(',').map((t) => t.trim()).filter(Boolean);
const accounts = new Map();
const stats = { discovery: 0, jwks: 0, token: 0 };
let homeTenant = tenants[0];
let substitute = null;
let tamper = null;
let signingKey = newKey();
let providers = buildProviders();

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

function clients() {
  const redirectUris = args['redirect-uri'];
  return [
    { client_id: args['client-id'], client_secret: args['client-secret'], redirect_uris: redirectUris },
    { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: redirectUris },
  ].map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }));
}

function buildProvider(prefix, tenant) {
  const provider = new Provider(`${origin}${prefix}`, {
    clients: clients(),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['attn-test-provider-cookie-key'] },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({
        ...(accounts.get(id) || { preferred_username: id }), sub: id, ...(tenant ? { tid: tenant } : {}),
      }),
    }),
    claims: {
      openid: ['sub', 'tid'],
      profile: ['name', 'preferred_username', 'groups', 'roles', 'school_number'],
      email: ['email'],
    },
    conformIdTokenClaims: false, // the scopes' claims in the ID token, as most providers do
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    ttl: { AuthorizationCode: 600, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Error</title><h1>${out.error}</h1><p>${escape(out.error_description || '')}</p>`;
    },
  });
  provider.proxy = false;
  return provider;
}

function buildProviders() {
  const built = new Map([['', buildProvider('', null)]]);
  for (const tenant of tenants) built.set(`/${tenant}/v2.0`, buildProvider(`/${tenant}/v2.0`, tenant));
  return built;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function alteredToken(idToken, part) {
  const [header, payload, signature] = idToken.split('.');
  if (part === 'kid') {
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
    const renamed = Buffer.from(JSON.stringify({ ...decoded, kid: `unknown-${randomUUID()}` }));
    return [renamed.toString('base64url'), payload, signature].join('.');
  }
  const bytes = Buffer.from(signature, 'base64url');
  bytes[0] ^= 0xff;
  bytes[bytes.length - 1] ^= 0x01;
  return [header, payload, bytes.toString('base64url')].join('.');
}

// the token response with a substituted or altered ID token, for one request
function rewriteTokenResponse(res) {
  const { end } = res;
  const replacement = substitute;
  const altering = tamper;
  substitute = null;
  tamper = null;
  res.end = function rewritten(chunk, ...rest) {
    let body = chunk;
    try {
      const parsed = JSON.parse(Buffer.isBuffer(chunk) ? chunk.toString() : chunk);
      if (parsed.id_token) {
        if (replacement) parsed.id_token = replacement;
        if (altering) parsed.id_token = alteredToken(parsed.id_token, altering);
        body = JSON.stringify(parsed);
        res.setHeader('content-length', Buffer.byteLength(body));
      }
    } catch { /* not JSON: passed on as it is */ }
    return end.call(res, body, ...rest);
  };
}

const signInPage = (action, uid, details) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Test provider: sign in</title></head><body>
<main><h1>Test provider</h1><p>Signing in to ${escape(details.params.client_id)}</p>
<form method="post" action="${action}/login">
<label for="login">Account</label> <input id="login" name="login" autocomplete="username" required>
<button type="submit">Continue</button></form>
<form method="post" action="${action}/abort"><button type="submit">Cancel</button></form>
</main></body></html>`;

async function interaction(provider, prefix, req, res, rest) {
  const [uid, step] = rest.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  if (req.method === 'GET' && !step) {
    return send(res, 200, 'text/html; charset=utf-8', signInPage(`${prefix}/interaction/${uid}`, uid, details));
  }
  if (req.method === 'POST' && step === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && step === 'login') {
    const accountId = new URLSearchParams(await readBody(req)).get('login');
    if (!accountId) return send(res, 400, 'text/plain', 'no account');
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, {
      login: { accountId }, consent: { grantId },
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, 'text/plain', 'not found');
}

async function control(req, res, name) {
  if (req.method === 'GET' && name === 'stats') return send(res, 200, 'application/json', JSON.stringify(stats));
  const body = JSON.parse((await readBody(req)) || '{}');
  if (name === 'accounts') accounts.set(body.id, body.claims || {});
  else if (name === 'clock') clockOffset = Number(body.offset) || 0;
  else if (name === 'rotate') { signingKey = newKey(); providers = buildProviders(); }
  else if (name === 'substitute') substitute = body.id_token;
  else if (name === 'tamper') tamper = body.part === 'kid' ? 'kid' : 'signature';
  else if (name === 'home-tenant') homeTenant = body.tenant;
  else if (name === 'reset') {
    clockOffset = 0; substitute = null; tamper = null; homeTenant = tenants[0];
    for (const key of Object.keys(stats)) stats[key] = 0;
  } else return send(res, 404, 'text/plain', 'no such knob');
  return send(res, 200, 'application/json', JSON.stringify({ ok: true, kid: signingKey.kid }));
}

// Entra's common endpoint: the home tenant's document with the issuer as a template
async function commonDiscovery(res) {
  const response = await fetch(`${origin}/${homeTenant}/v2.0/.well-known/openid-configuration`);
  const document = await response.json();
  const common = JSON.parse(JSON.stringify(document).replaceAll(`/${homeTenant}/v2.0/`, '/common/v2.0/'));
  common.issuer = `${origin}/{tenantid}/v2.0`;
  return send(res, 200, 'application/json', JSON.stringify(common));
}

function route(url) {
  // the longest prefix first: a tenant's, Entra's common one, then the root provider's
  for (const tenant of tenants) {
    if (url.startsWith(`/${tenant}/v2.0/`)) return [`/${tenant}/v2.0`, providers.get(`/${tenant}/v2.0`)];
  }
  if (homeTenant && url.startsWith('/common/v2.0/')) return ['/common/v2.0', providers.get(`/${homeTenant}/v2.0`)];
  return ['', providers.get('')];
}

const server = http.createServer(async (req, res) => {
  try {
    const path = req.url.split('?')[0];
    if (path.startsWith('/_control/')) return await control(req, res, path.slice('/_control/'.length));
    if (path === '/common/v2.0/.well-known/openid-configuration' && homeTenant) {
      stats.discovery += 1;
      return await commonDiscovery(res);
    }
    if (path === '/mirror/.well-known/openid-configuration') {
      // the root provider's document copied to another address (its issuer is not this one)
      const copied = await fetch(`${origin}/.well-known/openid-configuration`);
      return send(res, 200, 'application/json', await copied.text());
    }
    const [prefix, provider] = route(path);
    const inner = path.slice(prefix.length) || '/';
    if (inner.endsWith('/.well-known/openid-configuration')) stats.discovery += 1;
    if (inner === '/jwks') stats.jwks += 1;
    if (inner === '/token' && req.method === 'POST') {
      stats.token += 1;
      if (substitute || tamper) rewriteTokenResponse(res);
    }
    if (inner.startsWith('/interaction/')) {
      return await interaction(providers.get(prefix) || provider, prefix, req, res, inner.slice('/interaction/'.length));
    }
    // mounted as express would: the provider reads its mount path from originalUrl
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    return provider.callback()(req, res);
  } catch (error) {
    if (!res.headersSent) send(res, 400, 'text/plain', `${error.name}: ${error.message}`);
    else res.end();
  }
});

server.listen(Number(args.port), args.host, () => {
  process.stdout.write(`oidc test provider at ${origin}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
