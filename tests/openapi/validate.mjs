#!/usr/bin/env node
// validate.mjs — checks depot's OpenAPI document.
//
//   node tests/openapi/validate.mjs src/native/openapi.json [--url http://127.0.0.1:PORT]
//
// Always: the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator), every
// schema in it compiles as JSON Schema 2020-12 (Ajv, strict), and every `examples` entry of a
// component schema validates against it.
//
// With --url (a fresh server, with rate limits on or off): runs one scenario through every
// operation and checks each answer against the document — the status is one the operation
// lists, the body validates against that response's schema and has no field the schema does
// not declare, the content type is the documented one, and required headers are there.
// The served document itself must equal the file with `servers` set to the URL.
//
// Prints one line per failure and a summary; exits 1 on any failure.

import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { gzipSync } from "node:zlib";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const urlAt = args.indexOf("--url");
const base = urlAt >= 0 ? args[urlAt + 1]?.replace(/\/$/, "") : null;
if (!file || (urlAt >= 0 && !base)) {
  console.error("usage: validate.mjs OPENAPI.json [--url BASE_URL]");
  process.exit(2);
}

const failures = [];
let checks = 0;
function fail(msg) {
  failures.push(msg);
  console.log(`FAIL ${msg}`);
}

const text = readFileSync(file, "utf8");
const doc = JSON.parse(text);

// ---- the document ----------------------------------------------------------------------

const validator = new Validator();
const structural = await validator.validate(structuredClone(doc));
checks++;
if (!structural.valid) {
  fail(`${file} is not valid OpenAPI: ${JSON.stringify(structural.errors, null, 1)}`);
} else if (validator.version !== "3.1") {
  fail(`${file}: OpenAPI ${validator.version}, expected 3.1`);
}

function lookup(ref) {
  if (!ref.startsWith("#/")) throw new Error(`external $ref ${ref}`);
  let node = doc;
  for (const part of ref.slice(2).split("/")) {
    node = node?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node;
}

function deref(node) {
  let n = node;
  for (let i = 0; n && typeof n === "object" && typeof n.$ref === "string"; i++) {
    if (i > 20) throw new Error(`$ref loop at ${node.$ref}`);
    n = lookup(n.$ref);
  }
  return n;
}

// Ajv sees component refs through one registered schema holding the components.
const ID = "urn:depot:openapi";
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31 });
ajv.addKeyword("components");
ajv.addSchema({ $id: ID, components: { schemas: doc.components?.schemas ?? {} } });

// A copy of a schema whose local refs point into the registered one.
function absolutize(s) {
  if (Array.isArray(s)) return s.map(absolutize);
  if (!s || typeof s !== "object") return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "$ref" && typeof v === "string") {
      if (!v.startsWith("#/components/schemas/")) throw new Error(`a schema refers to ${v}`);
      out[k] = ID + v;
    } else {
      out[k] = absolutize(v);
    }
  }
  return out;
}

const compiled = new Map();
function compile(schema, where) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) {
    try {
      compiled.set(key, ajv.compile(absolutize(schema)));
    } catch (e) {
      fail(`${where}: the schema does not compile: ${e.message}`);
      compiled.set(key, null);
    }
  }
  return compiled.get(key);
}

// Every schema in the document compiles; examples validate.
function eachSchema(node, where, fn) {
  if (Array.isArray(node)) {
    node.forEach((x, i) => eachSchema(x, `${where}/${i}`, fn));
    return;
  }
  if (!node || typeof node !== "object") return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "schema" && v && typeof v === "object") fn(v, `${where}/schema`);
    else eachSchema(v, `${where}/${k}`, fn);
  }
}
for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
  checks++;
  const v = compile(schema, `#/components/schemas/${name}`);
  for (const [i, ex] of (schema.examples ?? []).entries()) {
    checks++;
    if (v && !v(ex)) fail(`#/components/schemas/${name}/examples/${i}: ${ajv.errorsText(v.errors)}`);
  }
}
eachSchema(doc.paths, "#/paths", (s, where) => {
  checks++;
  compile(s, where);
});
for (const k of ["parameters", "headers", "responses"]) {
  eachSchema(doc.components?.[k], `#/components/${k}`, (s, where) => {
    checks++;
    compile(s, where);
  });
}

// ---- a live server -----------------------------------------------------------------------

// Instance keys the schema does not declare (through $ref, allOf, and the oneOf/anyOf branches
// of a matching type). A schema declaring neither properties nor additionalProperties is
// free-form and not looked into.
function branches(s) {
  const d = deref(s);
  if (!d || typeof d !== "object") return [];
  const out = [d];
  for (const m of d.allOf ?? []) out.push(...branches(m));
  for (const m of [...(d.oneOf ?? []), ...(d.anyOf ?? [])]) out.push(...branches(m));
  return out;
}
function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (Number.isInteger(v)) return "integer";
  return typeof v;
}
function typeFits(s, v) {
  if (s.type === undefined) return true;
  const t = jsonType(v);
  const types = [].concat(s.type);
  return types.includes(t) || (t === "integer" && types.includes("number"));
}
function undeclared(v, schema, at, out) {
  const bs = branches(schema).filter((b) => typeFits(b, v));
  if (Array.isArray(v)) {
    for (const b of bs) if (b.items) v.forEach((x, i) => undeclared(x, b.items, `${at}/${i}`, out));
    return;
  }
  if (!v || typeof v !== "object") return;
  const described = bs.some((b) => b.properties || b.additionalProperties !== undefined);
  for (const [k, x] of Object.entries(v)) {
    const decl = bs.filter((b) => b.properties && k in b.properties).map((b) => b.properties[k]);
    const extra = bs.filter((b) => b.additionalProperties && typeof b.additionalProperties === "object");
    if (decl.length) decl.forEach((d) => undeclared(x, d, `${at}/${k}`, out));
    else if (extra.length) extra.forEach((b) => undeclared(x, b.additionalProperties, `${at}/${k}`, out));
    else if (described && !bs.some((b) => b.additionalProperties === true)) out.push(`${at}/${k}`);
  }
}

let rateLimitsOn = false; // set from the first limited answer
const seen = new Set(); // "method path" of every operation the scenario reached

// Sends a request the way clients send large bodies (mix, rebar3, curl): the headers with
// `Expect: 100-continue`, the body only once the server says continue. A server that refuses the
// request from its headers (413 for a declared length over the limit) answers before any body
// is sent. Sending the body anyway races the server closing a connection with unread bytes,
// whose TCP reset can destroy its answer before the client reads it.
function sendExpectingContinue(method, path, headers, payload) {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(payload ?? "");
    const req = http.request(base + path, {
      method,
      headers: { ...headers, Expect: "100-continue", "Content-Length": body.length },
    });
    req.on("continue", () => req.end(body));
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        req.destroy();
        const pairs = [];
        for (const [k, v] of Object.entries(res.headers)) for (const x of [v].flat()) pairs.push([k, x]);
        resolve(new Response(chunks.length ? Buffer.concat(chunks) : null, { status: res.statusCode, headers: pairs }));
      });
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}

// Calls the server and checks the answer against the operation at (method, template).
async function call(method, template, path, { status, json, body, headers = {}, auth, expectContinue } = {}) {
  const h = { ...headers };
  if (auth) h.Authorization = auth;
  let payload = body;
  if (json !== undefined) {
    h["Content-Type"] ??= "application/json";
    payload = JSON.stringify(json);
  }
  const res = expectContinue
    ? await sendExpectingContinue(method, path, h, payload)
    : await fetch(base + path, { method, headers: h, body: payload, redirect: "manual" });
  const raw = Buffer.from(await res.arrayBuffer());
  const what = `${method} ${path} → ${res.status}`;
  checks++;
  seen.add(`${method.toLowerCase()} ${template}`);
  if (status !== undefined && res.status !== status) {
    fail(`${what}, expected ${status}: ${raw.toString("utf8").slice(0, 300)}`);
  }
  const op = doc.paths?.[template]?.[method.toLowerCase()];
  if (!op) {
    fail(`${what}: the document has no ${method} ${template}`);
    return { res, raw, body: null };
  }
  const key = String(res.status);
  const listed = op.responses[key] ?? op.responses[`${key[0]}XX`];
  // `default` stands for the errors no operation lists (405, 414, 431, 5xx); the others must be listed.
  const generic = [405, 414, 431].includes(res.status) || res.status >= 500;
  if (!listed && !(generic && op.responses.default)) {
    fail(`${what}: ${key} is not among ${method} ${template}'s responses`);
  }
  const resp = deref(listed ?? op.responses.default);
  let parsed = null;
  const ctype = res.headers.get("content-type");
  const content = resp?.content ?? {};
  const media = Object.keys(content);
  if (!media.length) {
    if (raw.length && method !== "HEAD") fail(`${what}: a body where the document describes none`);
  } else {
    const m = media.find((x) => ctype && ctype.split(";")[0].trim() === x.split(";")[0].trim());
    if (!m) fail(`${what}: Content-Type ${ctype}, documented ${media.join(", ")}`);
    if (ctype && ctype.startsWith("application/json")) {
      try {
        parsed = JSON.parse(raw.toString("utf8"));
      } catch {
        fail(`${what}: the body is not JSON`);
      }
      const schema = content[m ?? media[0]]?.schema;
      if (parsed !== null && schema) {
        const v = compile(schema, `${method} ${template} ${key}`);
        if (v && !v(parsed)) fail(`${what}: ${ajv.errorsText(v.errors)}: ${JSON.stringify(parsed).slice(0, 300)}`);
        const extra = [];
        undeclared(parsed, schema, "", extra);
        if (extra.length) fail(`${what}: fields the document does not describe: ${extra.join(", ")}`);
      }
    }
  }
  // Rate-limit headers exactly on the limited operations (when the server limits at all), except
  // on answers given before the request is counted (a bad credential, a refused body or URL).
  const limited = op["x-depot-rate-limit"] !== "none";
  const uncounted = [401, 413, 414, 415, 431].includes(res.status);
  if (rateLimitsOn && !uncounted && limited !== res.headers.has("x-ratelimit-limit")) {
    fail(`${what}: X-RateLimit-Limit ${limited ? "missing" : "present"} (x-depot-rate-limit ${op["x-depot-rate-limit"]})`);
  }
  for (const [name, hdr] of Object.entries(resp?.headers ?? {})) {
    const hd = deref(hdr);
    if (hd.required && !res.headers.has(name)) fail(`${what}: no ${name} header`);
  }
  return { res, raw, body: parsed };
}

// A .tar.gz of {path: text}.
function targz(files) {
  const parts = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, "0")}\0`, 136);
    h.fill(" ", 148, 156);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

function form(fields) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (Buffer.isBuffer(v)) f.append(k, new Blob([v], { type: "application/gzip" }), `${k}.tar.gz`);
    else f.append(k, v);
  }
  return f;
}

async function waitReady() {
  const until = Date.now() + 10000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      await r.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`no server at ${base}: ${e.message}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }
}

async function scenario() {
  await waitReady();
  const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
  const V = "/api/v1";

  // ops and the document itself
  await call("GET", "/health", "/health", { status: 200 });
  await call("GET", "/metrics", "/metrics", { status: 200 });
  await call("GET", "/health", "/health", { status: 200, auth: "Bearer dpt_nope" }); // credentials are ignored here
  const spec = await call("GET", `${V}/openapi.json`, `${V}/openapi.json`, { status: 200 });
  checks++;
  if (spec.body?.servers?.[0]?.url !== base) fail(`served servers[0].url is ${spec.body?.servers?.[0]?.url}, want ${base}`);
  const served = structuredClone(spec.body ?? {});
  const written = structuredClone(doc);
  delete served.servers;
  delete written.servers;
  checks++;
  if (JSON.stringify(served) !== JSON.stringify(written)) fail("the served document differs from the file beyond servers");
  const etag = spec.res.headers.get("etag");
  await call("GET", `${V}/openapi.json`, `${V}/openapi.json`, { status: 304, headers: { "If-None-Match": etag } });
  await call("GET", `${V}/openapi.json`, "/api/openapi.json", { status: 200 });

  // Is the server limiting? (--rate-limit off: no headers anywhere.)
  rateLimitsOn = (await fetch(`${base}/api/v1/stats`)).headers.has("x-ratelimit-limit");

  // accounts
  const alice = { username: "alice", email: "alice@example.com", password: "correct horse" };
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, { status: 201, json: alice });
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, { status: 409, json: alice });
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, { status: 400, json: { username: "x" } });
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, {
    status: 422,
    json: { username: "bob", email: "nope", password: "long enough" },
  });
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, {
    status: 415,
    body: "x",
    headers: { "Content-Type": "text/plain" },
  });
  const bob = { username: "bob", email: "bob@example.com", password: "battery staple" };
  await call("POST", `${V}/auth/register`, `${V}/auth/register`, { status: 201, json: bob });
  const login = await call("POST", `${V}/auth/login`, `${V}/auth/login`, {
    status: 200,
    json: { username: "alice", password: alice.password },
  });
  await call("POST", `${V}/auth/login`, `${V}/auth/login`, { status: 401, json: { login: "alice", password: "wrong!!!" } });
  await call("POST", `${V}/auth/login`, `${V}/auth/login`, {
    status: 413,
    json: { username: "alice", password: "x".repeat(1100000) },
    expectContinue: true,
  });
  let jwt = `Bearer ${login.body?.token}`;
  await call("GET", `${V}/me`, `${V}/me`, { status: 200, auth: jwt });
  await call("GET", `${V}/auth/me`, `${V}/auth/me`, { status: 200, auth: basic("alice", alice.password) });
  await call("GET", `${V}/me`, `${V}/me`, { status: 401 });
  const fresh = await call("POST", `${V}/auth/refresh`, `${V}/auth/refresh`, { status: 200, auth: jwt });
  await call("POST", `${V}/auth/refresh`, `${V}/auth/refresh`, { status: 403, auth: basic("alice", alice.password) });
  jwt = `Bearer ${fresh.body?.token}`;

  // tokens
  const ci = await call("POST", `${V}/tokens`, `${V}/tokens`, {
    status: 201,
    auth: jwt,
    json: { name: "ci", scopes: ["publish:native"], expires_at: "2099-01-01T00:00:00Z" },
  });
  await call("POST", `${V}/tokens`, `${V}/tokens`, { status: 409, auth: jwt, json: { name: "ci", scopes: ["read"] } });
  await call("POST", `${V}/tokens`, `${V}/tokens`, { status: 422, auth: jwt, json: { name: "bad name!", scopes: ["read"] } });
  const ro = await call("POST", `${V}/tokens`, `${V}/tokens`, { status: 201, auth: jwt, json: { name: "ro", scopes: ["read"] } });
  const ciTok = `Bearer ${ci.body?.token}`;
  const roTok = ro.body?.token; // sent bare
  await call("GET", `${V}/tokens`, `${V}/tokens`, { status: 200, auth: jwt });
  await call("GET", `${V}/tokens`, `${V}/tokens`, { status: 403, auth: ciTok });
  await call("GET", `${V}/tokens/{name}`, `${V}/tokens/ci`, { status: 200, auth: jwt });
  await call("GET", `${V}/tokens/{name}`, `${V}/tokens/nope`, { status: 404, auth: jwt });
  await call("GET", `${V}/me`, `${V}/me`, { status: 200, auth: roTok });
  await call("PUT", `${V}/me/settings`, `${V}/me/settings`, { status: 200, auth: jwt, json: { show_email: true } });
  await call("PUT", `${V}/me/settings`, `${V}/me/settings`, { status: 400, auth: jwt, json: { show_email: "yes" } });
  await call("PUT", `${V}/me/settings`, `${V}/me/settings`, { status: 403, auth: roTok, json: { show_email: true } });
  await call("PUT", `${V}/me/settings`, `${V}/me/settings`, { status: 401, json: { show_email: true } });
  await call("PUT", `${V}/me/settings`, `${V}/me/settings`, { status: 200, auth: jwt, json: { show_email: false } });
  const bobJwt = `Bearer ${
    (await call("POST", `${V}/auth/login`, `${V}/auth/login`, { status: 200, json: { email: bob.email, password: bob.password } }))
      .body?.token
  }`;

  // signing keys
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url").toString("base64");
  const key = await call("POST", `${V}/me/keys`, `${V}/me/keys`, { status: 201, auth: jwt, json: { name: "laptop", public_key: pub } });
  await call("POST", `${V}/me/keys`, `${V}/me/keys`, { status: 409, auth: jwt, json: { name: "laptop", public_key: pub } });
  await call("POST", `${V}/me/keys`, `${V}/me/keys`, { status: 422, auth: jwt, json: { name: "x", public_key: "AAAA" } });
  await call("POST", `${V}/me/keys`, `${V}/me/keys`, { status: 403, auth: roTok, json: { public_key: pub } });
  await call("POST", `${V}/me/keys`, `${V}/me/keys`, { status: 403, auth: ciTok, json: { public_key: pub } });
  await call("GET", `${V}/me/keys`, `${V}/me/keys`, { status: 200, auth: jwt });

  // publish
  const manifest = (version) => ({
    name: "left-pad",
    version,
    description: "Pads strings",
    license: "MIT OR Apache-2.0",
    authors: ["Ann <ann@example.com>"],
    homepage: "https://example.com",
    keywords: ["string", "pad"],
    categories: ["text-processing"],
    tags: ["stable"],
    dependencies: {},
    dev_dependencies: { "test-kit": "~1.4" },
    readme: "README.md",
  });
  const tgz1 = targz({ "depot.json": JSON.stringify(manifest("1.0.0")), "README.md": "# left-pad\n" });
  const sig1 = sign(null, tgz1, createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }))).toString("base64");
  const P = `${V}/packages`;
  await call("POST", P, P, { status: 201, auth: ciTok, body: form({ tarball: tgz1, signature: sig1 }) });
  await call("POST", P, P, { status: 409, auth: ciTok, body: form({ tarball: tgz1 }) });
  await call("POST", P, P, { status: 403, auth: `Bearer ${roTok}`, body: form({ tarball: tgz1 }) });
  await call("POST", P, P, { status: 401, body: form({ tarball: tgz1 }) });
  await call("POST", P, P, { status: 415, auth: ciTok, json: manifest("1.0.1") });
  await call("POST", P, P, { status: 400, auth: ciTok, body: form({ metadata: JSON.stringify(manifest("1.0.1")) }) });
  const tgz2 = targz({ "depot.json": JSON.stringify(manifest("1.1.0")), "README.md": "# left-pad\n" });
  await call("POST", P, P, {
    status: 422,
    auth: ciTok,
    body: form({ tarball: tgz2, metadata: JSON.stringify(manifest("1.2.0")) }),
  });
  await call("POST", P, P, {
    status: 201,
    auth: ciTok,
    body: form({ tarball: tgz2, metadata: JSON.stringify(manifest("1.1.0")) }),
  });
  await call("POST", P, P, {
    status: 201,
    auth: basic("bob", bob.password),
    body: form({ tarball: targz({ "depot.json": JSON.stringify({ name: "bobs-lib", version: "0.1.0" }) }) }),
  });

  // reads
  const pkg = await call("GET", `${P}/{name}`, `${P}/left-pad`, { status: 200 });
  await call("GET", `${P}/{name}`, `${P}/Left_Pad`, { status: 200 });
  await call("GET", `${P}/{name}`, `${P}/left-pad`, { status: 304, headers: { "If-None-Match": pkg.res.headers.get("etag") } });
  await call("GET", `${P}/{name}`, `${P}/nope`, { status: 404 });
  await call("GET", `${P}/{name}/versions/{version}`, `${P}/left-pad/versions/1.0.0`, { status: 200 });
  await call("GET", `${P}/{name}/versions/{version}`, `${P}/left-pad/versions/9.9.9`, { status: 404 });
  await call("GET", `${P}/{name}/{version}`, `${P}/left-pad/1.1.0`, { status: 200 });
  const dl = await call("GET", `${P}/{name}/versions/{version}/download`, `${P}/left-pad/versions/1.0.0/download`, { status: 200 });
  checks++;
  if (!dl.raw.equals(tgz1)) fail("the download is not the published bytes");
  if (dl.res.headers.get("x-signature") !== sig1) fail("the download of a signed version has no (or another) X-Signature");
  await call("GET", `${P}/{name}/versions/{version}/download`, `${P}/left-pad/versions/1.0.0/download`, {
    status: 304,
    headers: { "If-None-Match": dl.res.headers.get("etag") },
  });
  await call("GET", `${P}/{name}/{version}/download`, `${P}/left-pad/1.1.0/download`, { status: 200 });

  // yank
  await call("PUT", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/1.1.0/yank`, { status: 200, auth: ciTok });
  await call("PUT", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/1.1.0/yank`, { status: 403, auth: roTok });
  await call("PUT", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/1.1.0/yank`, { status: 403, auth: bobJwt });
  await call("PUT", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/7.0.0/yank`, { status: 404, auth: ciTok });
  await call("GET", `${P}/{name}/versions/{version}`, `${P}/left-pad/versions/1.1.0`, { status: 200 });
  await call("PUT", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/1.1.0/yank`, { status: 200, auth: ciTok });
  await call("DELETE", `${P}/{name}/versions/{version}/yank`, `${P}/left-pad/versions/1.1.0/yank`, { status: 200, auth: ciTok });
  // hosted docs: a raw .tar.gz body, then a site that is not an archive, then delete
  const D = `${P}/{name}/versions/{version}/docs`;
  const site = targz({ "index.html": "<!doctype html><title>left-pad</title><p>docs</p>" });
  await call("POST", D, `${P}/left-pad/versions/1.1.0/docs`, {
    status: 201, auth: ciTok, body: site, headers: { "Content-Type": "application/gzip" } });
  await call("POST", D, `${P}/left-pad/versions/1.1.0/docs`, {
    status: 403, auth: roTok, body: site, headers: { "Content-Type": "application/gzip" } });
  await call("DELETE", D, `${P}/left-pad/versions/1.1.0/docs`, { status: 204, auth: ciTok });
  await call("DELETE", D, `${P}/left-pad/versions/1.1.0/docs`, { status: 404, auth: ciTok });
  // pub's retract and discontinue through the native API (native packages cannot be retracted)
  const RT = `${P}/{name}/versions/{version}/retract`;
  await call("PUT", RT, `${P}/left-pad/versions/1.1.0/retract?ecosystem=native`, { status: 422, auth: ciTok });
  await call("DELETE", RT, `${P}/left-pad/versions/1.1.0/retract?ecosystem=pub`, { status: 404, auth: ciTok });
  const DC = `${P}/{name}/discontinue`;
  // discontinuing is managing the package: the publish token is refused, the session may
  await call("PUT", DC, `${P}/left-pad/discontinue`, { status: 403, auth: ciTok, json: { replaced_by: "right-pad" } });
  await call("PUT", DC, `${P}/left-pad/discontinue`, { status: 200, auth: jwt, json: { replaced_by: "right-pad" } });
  await call("DELETE", DC, `${P}/left-pad/discontinue`, { status: 200, auth: jwt });

  // owners and settings
  await call("GET", `${P}/{name}/owners`, `${P}/left-pad/owners`, { status: 200 });
  await call("PUT", `${P}/{name}/owners/{username}`, `${P}/left-pad/owners/bob`, { status: 200, auth: jwt });
  await call("PUT", `${P}/{name}/owners/{username}`, `${P}/left-pad/owners/bob`, { status: 409, auth: jwt });
  await call("PUT", `${P}/{name}/owners/{username}`, `${P}/left-pad/owners/nobody`, { status: 404, auth: jwt });
  await call("DELETE", `${P}/{name}/owners/{username}`, `${P}/left-pad/owners/bob`, { status: 200, auth: jwt });
  await call("DELETE", `${P}/{name}/owners/{username}`, `${P}/left-pad/owners/alice`, { status: 409, auth: jwt });
  await call("PUT", `${P}/{name}/settings`, `${P}/left-pad/settings`, { status: 200, auth: jwt, json: { require_signatures: true } });
  await call("PUT", `${P}/{name}/settings`, `${P}/left-pad/settings`, { status: 400, auth: jwt, json: { require_signatures: "yes" } });
  const tgz3 = targz({ "depot.json": JSON.stringify(manifest("1.2.0")) });
  await call("POST", P, P, { status: 422, auth: ciTok, body: form({ tarball: tgz3 }) });

  // search, stats, users
  const all = await call("GET", P, P, { status: 200 });
  checks++;
  if (all.body?.total !== 2) fail(`GET ${P} without a query lists ${all.body?.total} packages, want 2`);
  await call("GET", P, `${P}?search=pad`, { status: 200 });
  await call("GET", P, `${P}?keywords=pad&sort=name&page=1&per_page=1`, { status: 200 });
  await call("GET", P, `${P}?sort=bogus`, { status: 400 });
  await call("GET", `${V}/search`, `${V}/search?q=pad&pageSize=5&sort=downloads`, { status: 200 });
  await call("GET", `${V}/search`, `${V}/search?per_page=1000`, { status: 400 });
  await call("GET", `${P}/{name}/stats`, `${P}/left-pad/stats`, { status: 200 });
  await call("GET", `${V}/stats`, `${V}/stats`, { status: 200 });
  await call("GET", `${V}/users/{username}`, `${V}/users/alice`, { status: 200 });
  await call("GET", `${V}/users/{username}`, `${V}/users/nobody`, { status: 404 });

  // resolve
  const R = `${V}/resolve`;
  await call("POST", R, R, { status: 200, json: { dependencies: { "left-pad": "^1.0", "bobs-lib": "*" } } });
  await call("POST", R, R, { status: 200, json: { dependencies: {}, include_prerelease: true } });
  const conflict = await call("POST", R, R, { status: 422, json: { dependencies: { "left-pad": "^9" } } });
  checks++;
  if (conflict.body?.error?.code !== "unresolvable") fail(`resolve conflict: code ${conflict.body?.error?.code}, want unresolvable`);
  await call("POST", R, R, { status: 422, json: { dependencies: { "left-pad": "not a range" } } });
  await call("POST", R, R, { status: 400, json: { dependencies: 1 } });

  // cleanup routes
  await call("DELETE", `${V}/me/keys/{key_id}`, `${V}/me/keys/${key.body?.key_id}`, { status: 204, auth: jwt });
  await call("DELETE", `${V}/me/keys/{key_id}`, `${V}/me/keys/${key.body?.key_id}`, { status: 404, auth: jwt });
  await call("DELETE", `${V}/tokens/{name}`, `${V}/tokens/ro`, { status: 204, auth: jwt });
  await call("DELETE", `${V}/tokens/{name}`, `${V}/tokens/ro`, { status: 404, auth: jwt });
  await call("POST", `${V}/auth/logout`, `${V}/auth/logout`, { status: 403, auth: ciTok });
  await call("POST", `${V}/auth/logout`, `${V}/auth/logout`, { status: 204, auth: jwt });
  await call("GET", `${V}/me`, `${V}/me`, { status: 401, auth: jwt });

  // 429 with Retry-After: anonymous searches until the limit (the last thing, it spends the window).
  if (rateLimitsOn) {
    let hit = false;
    for (let i = 0; i < 1200 && !hit; i++) {
      const r = await fetch(`${base}${V}/search?q=x`);
      await r.arrayBuffer();
      hit = r.status === 429;
    }
    checks++;
    if (!hit) fail("no 429 after 1200 anonymous searches");
    else await call("GET", `${V}/search`, `${V}/search?q=x`, { status: 429 });
  }

  // every operation was reached
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) {
      if (["get", "put", "post", "delete", "patch"].includes(m) && !seen.has(`${m} ${p}`)) {
        fail(`the scenario never called ${m.toUpperCase()} ${p}`);
      }
    }
  }
}

if (base) {
  try {
    await scenario();
  } catch (e) {
    fail(`the scenario stopped: ${e.stack ?? e}`);
  }
}

console.log(
  `openapi: ${checks} checks, ${failures.length} failed${base ? ` (live against ${base})` : " (document only)"}`,
);
process.exit(failures.length ? 1 : 0);
