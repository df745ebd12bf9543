/* statuspage: the status page's document, its headers and the Accept negotiation. The page is
 * one C string: a <style> and a <script> that polls /status every 2 s and rebuilds two tables
 * (models, and the history when /status has one) from DOM nodes and textContent, never
 * innerHTML, because model names and Ollama's error texts are anyone's. Fields /status may
 * lack (state, in_flight, churn, failures, reload_causes, history) are shown when present.
 * The Content-Security-Policy allows the inline style and script by their SHA-256: whoever
 * edits them updates STYLE_SHA256 and SCRIPT_SHA256 (tests/integration/status-page.test.js
 * recomputes both from the served page and prints the right values). */
#include "statuspage.h"

#include <string.h>
#include <strings.h>

#define STYLE_SHA256  "sha256-MT9S7pEcGnkiuSme3mR+5Q7VPQtmUW2fkjcqtoE51O0="
#define SCRIPT_SHA256 "sha256-4DsrTo8xr0BQkLwWtjJR3o3xI59EJDSRPA5m0ZPB8ys="

/* Nothing but the inline style and script, and fetches to this origin: no other script,
 * style, image, font, form target or <base>; no page may frame it. */
#define CSP                                                                                        \
    "default-src 'none'; script-src '" SCRIPT_SHA256 "'; style-src '" STYLE_SHA256 "'; "           \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const struct statuspage_header statuspage_headers[] = {
    {"Content-Security-Policy", CSP},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"}, /* frame-ancestors for browsers without CSP 2 */
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"Cross-Origin-Resource-Policy", "same-origin"}, /* no <img>/<script> embedding elsewhere */
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Vary", "Accept"},
    {NULL, NULL},
};

const char statuspage_type[] = "text/html; charset=utf-8";

static const char page[] =
    "<!doctype html>\n"
    "<html lang='en'><head><meta charset='utf-8'>\n"
    "<meta name='viewport' content='width=device-width,initial-scale=1'>\n"
    "<title>keepwarm status</title>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330;background:#f7f8fa}\n"
    "h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:1.4em 0 .4em}\n"
    "table{border-collapse:collapse;width:100%;background:#fff}\n"
    "th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #e2e5ea}\n"
    "td{vertical-align:top}th{font-weight:600;background:#eef0f4}\n"
    ".b{display:inline-block;padding:0 .5em;border-radius:.6em;font-size:.9em}\n"
    ".b{background:#d9dde4}.st-resident,.up{background:#c8ecd0}.st-loading{background:#fbe7b5}\n"
    ".st-evicted,.st-expired,.st-crashed,.down{background:#f7c9c9}\n"
    ".st-repaired,.st-loaded{background:#cfe2fb}.m{color:#5c6370;font-size:.92em}\n"
    "b+.b{margin-left:.4em}.p{display:block}\n"
    ".err{background:#fde2e2;border:1px solid #d66;padding:.5em .8em}\n"
    ".warn{background:#fff1d6;border:1px solid #e8b84a;padding:.5em .8em;margin:.6em 0}\n"
    "</style></head>\n"
    "<body><h1>keepwarm <span id='ver' class='m'></span></h1>\n"
    "<p id='up'></p><div id='uperr' class='err' hidden></div>\n"
    "<div id='thrash' class='warn' hidden></div><div id='err' class='err' hidden></div>\n"
    "<p><span id='sum'></span> <span id='when' class='m'></span></p>\n"
    "<table><thead><tr><th>model</th><th>state</th><th>VRAM</th><th>context</th>\n"
    "<th>expires</th><th>reloads</th><th>pings</th><th>in flight</th>\n"
    "<th>crashes, churn, errors</th></tr></thead><tbody id='models'></tbody></table>\n"
    "<div id='hist' hidden><h2>History (newest first)</h2>\n"
    "<table><thead><tr><th>when</th><th>model</th><th>event</th><th>detail</th></tr></thead>\n"
    "<tbody id='events'></tbody></table></div>\n"
    "<script>\n"
    "'use strict';\n"
    "const $ = (id) => document.getElementById(id);\n"
    "// textContent, never HTML: model names and error texts come from clients and Ollama.\n"
    "function el(tag, cls, text) {\n"
    "  const e = document.createElement(tag);\n"
    "  if (cls) e.className = cls;\n"
    "  if (text !== undefined && text !== null) e.textContent = String(text);\n"
    "  return e;\n"
    "}\n"
    "const STATES = ['resident', 'loading', 'evicted', 'absent', 'expired', 'crashed',\n"
    "  'repaired', 'loaded', 'reload_options'];\n"
    "const badge = (s) => el('span', 'b st-' + (STATES.includes(s) ? s : 'other'), s);\n"
    "function bytes(n) {\n"
    "  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];\n"
    "  let i = 0;\n"
    "  for (n = Number(n) || 0; n >= 1024 && i < 4; i++) n /= 1024;\n"
    "  return n.toFixed(i ? 1 : 0) + ' ' + u[i];\n"
    "}\n"
    "function span(s) {\n"
    "  s = Math.max(0, Math.round(s));\n"
    "  if (s < 120) return s + ' s';\n"
    "  if (s < 7200) return Math.round(s / 60) + ' min';\n"
    "  return s < 172800 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d';\n"
    "}\n"
    "const ago = (ms) => span((Date.now() - ms) / 1000) + ' ago';\n"
    "const stateOf = (m) =>\n"
    "  typeof m.state === 'string' ? m.state : m.loaded ? 'resident' : 'not loaded';\n"
    "function cell(tr, ...parts) {\n"
    "  const td = el('td');\n"
    "  for (const p of parts)\n"
    "    if (p !== null && p !== undefined && p !== '')\n"
    "      td.append(typeof p === 'object' ? p : el('span', 'p', p));\n"
    "  tr.append(td);\n"
    "}\n"
    "function counts(o, names) {\n"
    "  if (!o || typeof o !== 'object') return '';\n"
    "  return names.filter((k) => o[k] > 0).map((k) => k.replace('_', ' ') + ' ' + o[k])\n"
    "    .join(', ');\n"
    "}\n"
    "function problems(m) {\n"
    "  const out = [];\n"
    "  for (const c of Array.isArray(m.churn) ? m.churn : [])\n"
    "    out.push(el('span', 'p', c.option + ' changed ' + c.count + ' times (' +\n"
    "      (c.values || []).join(', ') + '): ' +\n"
    "      (c.fix || 'pin ' + c.option + ' for this model')));\n"
    "  const f = m.failures;\n"
    "  const n = counts(f, ['runner_crash', 'context_overflow', 'oom']);\n"
    "  if (n)\n"
    "    out.push(el('span', 'p', n + (f.last_num_ctx ? ' at num_ctx ' + f.last_num_ctx : '') +\n"
    "      (f.last_at ? ', last ' + ago(f.last_at * 1000) : '')));\n"
    "  if (f && f.last_error) out.push(el('span', 'p m', f.last_error));\n"
    "  if (f && f.hint) out.push(el('span', 'p', f.hint));\n"
    "  if (m.last_error && !(f && f.last_error === m.last_error))\n"
    "    out.push(el('span', 'p m', m.last_error));\n"
    "  return out;\n"
    "}\n"
    "function row(m) {\n"
    "  const tr = el('tr');\n"
    "  const st = stateOf(m);\n"
    "  tr.setAttribute('data-model', m.name);\n"
    "  tr.setAttribute('data-state', st);\n"
    "  cell(tr, el('b', '', m.name), m.pinned ? el('span', 'b', 'pinned') : '');\n"
    "  cell(tr, badge(st));\n"
    "  if (m.size)\n"
    "    cell(tr, bytes(m.size_vram) + ' of ' + bytes(m.size), m.fully_on_gpu ? 'all on GPU'\n"
    "      : Math.round(100 * m.size_vram / m.size) + '% on GPU');\n"
    "  else cell(tr);\n"
    "  cell(tr, m.context_length || '');\n"
    "  cell(tr, m.expires_forever ? 'never' : m.expires_at\n"
    "    ? 'in ' + span((Date.parse(m.expires_at) - Date.now()) / 1000) : '');\n"
    "  cell(tr, String(m.reloads || 0),\n"
    "    el('span', 'p m',\n"
    "      counts(m.reload_causes, ['options', 'evicted', 'crashed', 'expired'])));\n"
    "  const lp = m.last_ping;\n"
    "  cell(tr, (m.pings_ok || 0) + ' ok, ' + (m.pings_failed || 0) + ' failed', lp\n"
    "    ? el('span', 'p m', 'last ' + lp.result + ', ' +\n"
    "      Math.round(lp.duration_ms) + ' ms, ' +\n"
    "      ago(lp.at * 1000)) : '');\n"
    "  cell(tr, m.in_flight === undefined ? '' : String(m.in_flight));\n"
    "  cell(tr, ...problems(m));\n"
    "  return tr;\n"
    "}\n"
    "function event(e) {\n"
    "  const tr = el('tr');\n"
    "  tr.setAttribute('data-event', e.event);\n"
    "  cell(tr, new Date(e.at).toLocaleString());\n"
    "  cell(tr, e.model);\n"
    "  cell(tr, badge(e.event));\n"
    "  cell(tr, e.detail);\n"
    "  return tr;\n"
    "}\n"
    "function render(s) {\n"
    "  const u = s.upstream || {};\n"
    "  $('ver').textContent = s.version || '';\n"
    "  $('up').replaceChildren(el('span', 'b ' + (u.up ? 'up' : 'down'), u.up ? 'up' : 'down'),\n"
    "    ' Ollama at ', el('b', '', u.url || '?'),\n"
    "    u.since ? ' since ' + new Date(u.since * 1000).toLocaleString() : '');\n"
    "  $('uperr').hidden = !u.error;\n"
    "  $('uperr').textContent = u.error || '';\n"
    "  $('thrash').hidden = !s.thrashing;\n"
    "  $('thrash').textContent = 'Thrashing: ' + (s.thrashing_hint || '');\n"
    "  const ms = Array.isArray(s.models) ? s.models : [];\n"
    "  const warm = ms.filter((m) => stateOf(m) === 'resident').length;\n"
    "  $('sum').textContent = ms.length + ' models, ' + warm + ' resident; ' +\n"
    "    (s.active_requests || 0) + ' requests in flight; keep_alive ' + (s.keep_alive || '?');\n"
    "  $('models').replaceChildren(...ms.map(row));\n"
    "  const h = Array.isArray(s.history) ? s.history : null;\n"
    "  $('hist').hidden = !h;\n"
    "  if (h) $('events').replaceChildren(...h.slice().reverse().map(event));\n"
    "}\n"
    "async function poll() {\n"
    "  try {\n"
    "    // location.origin, not '/status': a page opened as user:key@host/ui has those\n"
    "    // credentials in its base URL, which fetch() refuses; the browser sends them anyway.\n"
    "    const r = await fetch(location.origin + '/status',\n"
    "      { headers: { Accept: 'application/json' }, cache: 'no-store' });\n"
    "    if (r.status === 401) throw new Error('not authorized: reload the page to sign in');\n"
    "    if (!r.ok) throw new Error('HTTP ' + r.status);\n"
    "    render(await r.json());\n"
    "    $('err').hidden = true;\n"
    "    $('when').textContent = 'updated ' + new Date().toLocaleTimeString();\n"
    "  } catch (e) {\n"
    "    $('err').hidden = false;\n"
    "    $('err').textContent = 'Cannot read /status: ' + e.message;\n"
    "  }\n"
    "  setTimeout(poll, 2000);\n"
    "}\n"
    "poll();\n"
    "</script></body></html>\n";

const char *statuspage_html(size_t *len) {
    if (len)
        *len = sizeof(page) - 1;
    return page;
}

/* q as RFC 9110 writes it ("0", "0.8", "1", "1.000"), in thousandths; -1 when malformed. */
static int parse_q(const char *s, size_t n) {
    if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.')
        return -1;
    for (size_t i = 2, scale = 100; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * (int)scale;
    }
    return q > 1000 ? -1 : q;
}

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* One media range of an Accept list, its n bytes at p: how specifically it matches type/sub
 * (3 exact, 2 type/asterisk, 1 asterisk/asterisk, 0 not) and its q. */
static int range_match(const char *p, size_t n, const char *type, const char *sub, int *q) {
    while (n > 0 && is_ows(*p))
        p++, n--;
    const char *semi = memchr(p, ';', n);
    size_t rn = semi ? (size_t)(semi - p) : n; /* the range, without parameters */
    while (rn > 0 && is_ows(p[rn - 1]))
        rn--;
    const char *slash = memchr(p, '/', rn);
    if (!slash)
        return 0;
    size_t tl = (size_t)(slash - p), sl = rn - tl - 1;
    int spec;
    if (tl == 1 && *p == '*' && sl == 1 && slash[1] == '*')
        spec = 1;
    else if (tl != strlen(type) || strncasecmp(p, type, tl) != 0)
        return 0;
    else if (sl == 1 && slash[1] == '*')
        spec = 2;
    else if (sl == strlen(sub) && strncasecmp(slash + 1, sub, sl) == 0)
        spec = 3;
    else
        return 0;
    *q = 1000;
    /* Parameters, each after a ';': only q counts. */
    for (size_t at = semi ? (size_t)(semi - p) : n; at < n;) {
        size_t a = at + 1;
        const char *next = memchr(p + a, ';', n - a);
        size_t e = next ? (size_t)(next - p) : n;
        while (a < e && is_ows(p[a]))
            a++;
        size_t ve = e;
        while (ve > a && is_ows(p[ve - 1]))
            ve--;
        if (ve - a >= 2 && (p[a] == 'q' || p[a] == 'Q') && p[a + 1] == '=') {
            *q = parse_q(p + a + 2, ve - a - 2);
            if (*q < 0)
                return 0;
        }
        at = e;
    }
    return spec;
}

/* The q an Accept list gives type/sub: that of its most specific matching range; 0 if none. */
static int accept_q(const char *accept, const char *type, const char *sub) {
    int best = 0, q = 0;
    for (const char *p = accept; p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int rq = 0, spec = range_match(p, n, type, sub, &rq);
        if (spec > best) {
            best = spec;
            q = rq;
        }
        p = comma ? comma + 1 : NULL;
    }
    return q;
}

int statuspage_wants_html(const char *accept) {
    if (!accept)
        return 0;
    return accept_q(accept, "text", "html") > accept_q(accept, "application", "json");
}
