/* CampaignID offline verifier: the pure part (no DOM). Decodes a scanned QR (verifier URL with digits in the
   fragment, or a bare CID1: Base45 token), verifies the COSE_Sign1 ES256 signature with WebCrypto against the
   cached JWK set, and checks the signed revocation list and rules. Formats: campaignid/cards/token.py,
   campaignid/verification/revocations.py and rules.py. */
(function (global) {
  "use strict";
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const DIGIT_GROUPS = {3: 1, 5: 2, 8: 3, 10: 4, 13: 5, 15: 6, 17: 7};
  const enc = new TextEncoder();

  class VerifyError extends Error {
    constructor(reason) { super(reason); this.reason = reason; }
  }

  // --- transport -----------------------------------------------------------------------------------
  function b45decode(text) {
    const out = [];
    for (let i = 0; i < text.length; i += 3) {
      const chunk = text.slice(i, i + 3);
      let n = 0;
      for (let j = chunk.length - 1; j >= 0; j--) {
        const v = B45.indexOf(chunk[j]);
        if (v < 0) throw new VerifyError("malformed");
        n = n * 45 + v;
      }
      if (chunk.length === 3) {
        if (n > 0xffff) throw new VerifyError("malformed");
        out.push(n >> 8, n & 0xff);
      } else if (chunk.length === 2) {
        if (n > 0xff) throw new VerifyError("malformed");
        out.push(n);
      } else throw new VerifyError("malformed");
    }
    return new Uint8Array(out);
  }

  function digitsDecode(text) {
    if (!/^[0-9]+$/.test(text)) throw new VerifyError("malformed");
    const out = [];
    for (let i = 0; i < text.length; i += 17) {
      const group = text.slice(i, i + 17);
      const size = DIGIT_GROUPS[group.length];
      if (!size) throw new VerifyError("malformed");
      let n = BigInt(group);
      const bytes = new Array(size);
      for (let j = size - 1; j >= 0; j--) { bytes[j] = Number(n & 0xffn); n >>= 8n; }
      if (n !== 0n) throw new VerifyError("malformed");
      out.push(...bytes);
    }
    return new Uint8Array(out);
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const out = new Uint8Array(await new Response(stream).arrayBuffer());
    if (out.length > 4096) throw new VerifyError("malformed");
    return out;
  }

  /** The COSE bytes of a QR text: "https://…/v#digits", "#digits" or "CID1:…". */
  async function unwrap(text) {
    text = (text || "").trim();
    let raw;
    if (text.startsWith("CID1:")) raw = b45decode(text.slice(5));
    else if (text.includes("#")) raw = digitsDecode(text.slice(text.lastIndexOf("#") + 1));
    else throw new VerifyError("wrong_prefix");
    if (raw[0] === 0x78) {
      try { raw = await inflate(raw); } catch (e) { throw new VerifyError("malformed"); }
    }
    return raw;
  }

  // --- CBOR (the subset our documents use) ---------------------------------------------------------
  function cborDecode(bytes) {
    let pos = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new TextDecoder("utf-8", {fatal: true});
    function length(info) {
      if (info < 24) return info;
      if (info === 24) return bytes[pos++];
      if (info === 25) { const v = view.getUint16(pos); pos += 2; return v; }
      if (info === 26) { const v = view.getUint32(pos); pos += 4; return v; }
      if (info === 27) { const v = Number(view.getBigUint64(pos)); pos += 8; return v; }
      throw new VerifyError("malformed");
    }
    function item() {
      if (pos >= bytes.length) throw new VerifyError("malformed");
      const first = bytes[pos++], major = first >> 5, info = first & 31;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new VerifyError("malformed");
      }
      const n = length(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: case 3: {
          if (pos + n > bytes.length) throw new VerifyError("malformed");
          const chunk = bytes.subarray(pos, pos + n); pos += n;
          return major === 2 ? chunk : dec.decode(chunk);
        }
        case 4: { const a = []; for (let i = 0; i < n; i++) a.push(item()); return a; }
        case 5: { const m = new Map(); for (let i = 0; i < n; i++) { const k = item(); m.set(k, item()); } return m; }
        case 6: return {tag: n, value: item()};
      }
      throw new VerifyError("malformed");
    }
    const value = item();
    if (pos !== bytes.length) throw new VerifyError("malformed");
    return value;
  }

  function cborHead(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    if (n < 65536) return [(major << 5) | 25, n >> 8, n & 0xff];
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }

  function sigStructure(protectedBytes, payload) {
    const parts = [[0x84], cborHead(3, 10), Array.from(enc.encode("Signature1")),
      cborHead(2, protectedBytes.length)];
    const head = Uint8Array.from(parts.flat());
    const mid = Uint8Array.from([0x40, ...cborHead(2, payload.length)]);
    const out = new Uint8Array(head.length + protectedBytes.length + mid.length + payload.length);
    out.set(head, 0); out.set(protectedBytes, head.length);
    out.set(mid, head.length + protectedBytes.length);
    out.set(payload, head.length + protectedBytes.length + mid.length);
    return out;
  }

  // --- COSE_Sign1 ----------------------------------------------------------------------------------
  function b64url(bytes) {
    let s = "";
    bytes.forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function parseCose(bytes) {
    let obj;
    try { obj = cborDecode(bytes); } catch (e) { throw new VerifyError("malformed"); }
    if (obj && obj.tag !== undefined) {
      if (obj.tag !== 18) throw new VerifyError("malformed");
      obj = obj.value;
    }
    if (!Array.isArray(obj) || obj.length !== 4) throw new VerifyError("malformed");
    const [protectedBytes, unprotected, payload, signature] = obj;
    if (!(protectedBytes instanceof Uint8Array && payload instanceof Uint8Array && signature instanceof Uint8Array)
        || !(unprotected instanceof Map)) throw new VerifyError("malformed");
    let header;
    try { header = protectedBytes.length ? cborDecode(protectedBytes) : new Map(); } catch (e) { throw new VerifyError("malformed"); }
    const alg = header.has(1) ? header.get(1) : unprotected.get(1);
    const kid = header.get(4) || unprotected.get(4) || new Uint8Array();
    if (alg !== -7) throw new VerifyError("unsupported_algorithm");
    if (signature.length !== 64) throw new VerifyError("malformed");
    return {protectedBytes, payload, signature, kid: b64url(kid), contentType: header.get(3)};
  }

  /** Imported WebCrypto keys of a JWK set: [{kid, key}]. */
  async function importKeys(jwks) {
    const out = [];
    for (const jwk of (jwks && jwks.keys) || []) {
      if (jwk.kty !== "EC" || jwk.crv !== "P-256") continue;
      const key = await crypto.subtle.importKey("jwk", {kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true},
        {name: "ECDSA", namedCurve: "P-256"}, false, ["verify"]);
      out.push({kid: jwk.kid, key});
    }
    return out;
  }

  /** Verify a COSE_Sign1: the payload bytes, or VerifyError unknown_key / bad_signature. */
  async function verifyCose(parsed, keys) {
    const matching = keys.filter((k) => k.kid === parsed.kid);
    const candidates = matching.length ? matching : keys;
    const data = sigStructure(parsed.protectedBytes, parsed.payload);
    for (const k of candidates) {
      if (await crypto.subtle.verify({name: "ECDSA", hash: "SHA-256"}, k.key, parsed.signature, data)) {
        return parsed.payload;
      }
    }
    throw new VerifyError(matching.length ? "bad_signature" : "unknown_key");
  }

  function claimsOf(payload) {
    const data = cborDecode(payload);
    const card = data.get(-260);
    if (!(card instanceof Map)) throw new VerifyError("malformed");
    const claims = {issuer: data.get(1), issuedAt: data.get(6), expiresAt: data.get(4), code: card.get("c"),
      programme: card.get("p"), name: card.get("n") || "", birthYear: card.has("y") ? card.get("y") : null};
    if (typeof claims.code !== "string" || typeof claims.programme !== "string"
        || !Number.isInteger(claims.issuedAt) || !Number.isInteger(claims.expiresAt)) throw new VerifyError("malformed");
    return claims;
  }

  // --- revocation list -----------------------------------------------------------------------------
  function riceDecode(bytes, count, k) {
    const out = new Uint32Array(count);
    let pos = 0, value = 0;
    const total = bytes.length * 8;
    for (let i = 0; i < count; i++) {
      let q = 0;
      while (pos < total && (bytes[pos >> 3] >> (7 - (pos & 7))) & 1) { q++; pos++; }
      pos++;
      let low = 0;
      for (let j = 0; j < k; j++) { low = (low << 1) | ((bytes[pos >> 3] >> (7 - (pos & 7))) & 1); pos++; }
      value += q * (1 << k) + low;
      out[i] = value;
    }
    if (pos > total) throw new VerifyError("malformed");
    return out;
  }

  function hex(bytes) { let s = ""; bytes.forEach((b) => { s += b.toString(16).padStart(2, "0"); }); return s; }

  /** A signed revocation list document -> {version, issuedAt, expiresAt, values (sorted), exceptions}. */
  async function loadRevocations(bytes, keys) {
    const parsed = parseCose(bytes);
    if (parsed.contentType !== "application/cid-revocations+cbor") throw new VerifyError("malformed");
    const doc = cborDecode(await verifyCose(parsed, keys));
    if (doc.get("typ") !== "cid-revocations" || doc.get("bits") !== 28 || !doc.has("gcs")) throw new VerifyError("malformed");
    const x = doc.get("x"), exceptions = new Set();
    for (let i = 0; i + 8 <= x.length; i += 8) exceptions.add(hex(x.subarray(i, i + 8)));
    return {version: doc.get("ver"), issuedAt: doc.get("iat"), expiresAt: doc.get("exp"),
      values: riceDecode(doc.get("gcs"), doc.get("n"), doc.get("k")), exceptions};
  }

  /** A delta (``?since=<version>``) applied to a loaded list: a new list, or VerifyError when it does not
      follow it. A full list answered instead (the server's choice) replaces it. */
  async function applyRevocationDelta(list, bytes, keys) {
    const parsed = parseCose(bytes);
    if (parsed.contentType !== "application/cid-revocations+cbor") throw new VerifyError("malformed");
    const doc = cborDecode(await verifyCose(parsed, keys));
    if (doc.get("typ") !== "cid-revocations" || doc.get("bits") !== 28) throw new VerifyError("malformed");
    if (doc.has("gcs")) return loadRevocations(bytes, keys);
    if (doc.get("since") !== list.version) throw new VerifyError("malformed");
    const add = doc.get("add"), view = new DataView(add.buffer, add.byteOffset, add.byteLength);
    const added = new Uint32Array(add.length / 4);
    for (let i = 0; i < added.length; i++) added[i] = view.getUint32(i * 4);
    const merged = new Uint32Array(list.values.length + added.length);
    let i = 0, j = 0, n = 0;
    while (i < list.values.length || j < added.length) {
      const a = i < list.values.length ? list.values[i] : Infinity, b = j < added.length ? added[j] : Infinity;
      const v = a <= b ? a : b;
      if (a === v) i++;
      if (b === v) j++;
      merged[n++] = v;
    }
    const x = doc.get("x"), exceptions = new Set();
    for (let k = 0; k + 8 <= x.length; k += 8) exceptions.add(hex(x.subarray(k, k + 8)));
    return {version: doc.get("ver"), issuedAt: doc.get("iat"), expiresAt: doc.get("exp"),
      values: merged.subarray(0, n), exceptions};
  }

  async function isRevoked(list, code) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode("CID-REVOKED:" + code)));
    const short = ((digest[0] << 20) | (digest[1] << 12) | (digest[2] << 4) | (digest[3] >> 4)) >>> 0;
    let lo = 0, hi = list.values.length - 1, found = false;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, v = list.values[mid];
      if (v === short) { found = true; break; }
      if (v < short) lo = mid + 1; else hi = mid - 1;
    }
    return found && !list.exceptions.has(hex(digest.subarray(0, 8)));
  }

  async function loadRules(bytes, keys) {
    const parsed = parseCose(bytes);
    if (parsed.contentType !== "application/cid-rules+cbor") throw new VerifyError("malformed");
    const doc = cborDecode(await verifyCose(parsed, keys));
    if (doc.get("typ") !== "cid-rules") throw new VerifyError("malformed");
    const programmes = {};
    for (const [uid, entry] of doc.get("programmes")) {
      programmes[uid] = {name: entry.get("name"), rules: entry.get("rules").map((r) => Object.fromEntries(r))};
    }
    return {issuedAt: doc.get("iat"), expiresAt: doc.get("exp"), programmes};
  }

  const KNOWN_RULES = ["not_expired", "not_revoked", "min_card_age_hours", "max_card_age_days"];

  /** The verdict on a scanned text: {status, reason?, claims?, programme?}. status is one of
      valid, revoked, expired, unknown_issuer, invalid, cannot_confirm. */
  async function check(text, state, now) {
    now = now === undefined ? Date.now() / 1000 : now;
    let parsed, claims;
    try {
      parsed = parseCose(await unwrap(text));
    } catch (e) {
      return {status: "invalid", reason: e.reason || "malformed"};
    }
    if (!state.keys || !state.keys.length) return {status: "cannot_confirm", reason: "keys_missing"};
    try {
      claims = claimsOf(await verifyCose(parsed, state.keys));
    } catch (e) {
      return {status: e.reason === "unknown_key" ? "unknown_issuer" : "invalid", reason: e.reason || "malformed"};
    }
    const list = state.revocations;
    const programme = state.rules && state.rules.programmes[claims.programme];
    const out = {claims, programme: programme ? programme.name : null};
    if (list && await isRevoked(list, claims.code)) return {...out, status: "revoked"};
    if (now >= claims.expiresAt) return {...out, status: "expired"};
    if (!list || now >= list.expiresAt) return {...out, status: "cannot_confirm", reason: "list_stale"};
    if (!state.rules || now >= state.rules.expiresAt) return {...out, status: "cannot_confirm", reason: "rules_stale"};
    if (!programme) return {...out, status: "unknown_issuer", reason: "unknown_programme"};
    for (const rule of programme.rules) {
      if (!KNOWN_RULES.includes(rule.id)) return {...out, status: "cannot_confirm", reason: "unknown_rule"};
      if (rule.id === "min_card_age_hours" && now - claims.issuedAt < rule.hours * 3600) {
        return {...out, status: "invalid", reason: "too_recent"};
      }
      if (rule.id === "max_card_age_days" && now - claims.issuedAt > rule.days * 86400) {
        return {...out, status: "invalid", reason: "too_old"};
      }
    }
    return {...out, status: "valid"};
  }

  global.CIDVerifier = {check, importKeys, loadRevocations, applyRevocationDelta, loadRules, isRevoked, unwrap, parseCose,
    digitsDecode, b45decode, riceDecode, VerifyError};
})(typeof self !== "undefined" ? self : this);
