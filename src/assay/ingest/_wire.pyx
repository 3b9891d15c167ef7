# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""OTLP protobuf trace requests to span rows, decoded from the wire without the GIL.

``decode`` walks the protobuf wire format of an ``ExportTraceServiceRequest`` and
does, for the common span, what :func:`assay.ingest.normalize.normalize_traces`
does (with redaction off): ids as hex, the conventions' answers (kind, model,
provider, tokens, reported cost, input/output, session, user), the attributes as
the JSON ``orjson.dumps(to_dict(...))`` writes, and the declared slices. All of
that runs in C on offsets into the request body; only the final tuples and
strings are made with the GIL held. :mod:`assay.ingest.compiled` turns them into
writer rows.

Why hand-written: every maintained protobuf library for Python (upb, the pure
Python one, betterproto, ...) creates a Python object per message and field,
which is most of the cost this module removes, and holds the GIL while doing
it. protobuf's upb backend (``ExportTraceServiceRequest.FromString``) is the
reference for what is well-formed: this decoder must reject, or hand back to
the Python path, every body upb rejects.

:mod:`assay.ingest.normalize` (with ``conventions.py`` and ``attributes.py``) is
the reference behaviour. This file duplicates its rules (the key table and
``process_span`` below), so it must change whenever they change; the
differential tests (compiled vs Python path on generated and mutated requests)
catch drift. Whatever is not handled here goes to the Python path, either the
whole request (``decode`` returns None) or one span (a ``(1, ...)`` tuple).

Memory safety: the body is untrusted. Every read is checked against the end of
its enclosing message, nesting is bounded (``MAX_DEPTH``), work per span is
bounded (``MAX_ATTRS``), and sizes are checked before buffers grow.
"""
from libc.stdint cimport uint8_t, uint32_t, int32_t, uint64_t, int64_t
from libc.string cimport memcpy, memcmp, memset
from libc.stdlib cimport malloc, realloc, free
from cpython.unicode cimport PyUnicode_DecodeUTF8
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize

cdef extern from *:
    """
    #include <math.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <stdint.h>

    static int fs_isfinite(double d) { return isfinite(d); }
    static double fs_trunc(double d) { return trunc(d); }

    /* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as CPython and
       upb's utf8_range accept it. */
    static int fs_utf8_ok(const unsigned char *s, Py_ssize_t n) {
        Py_ssize_t i = 0;
        while (i < n) {
            /* ASCII fast path: 8 bytes at a time (byte order does not matter for
               the high-bit test) */
            while (i + 8 <= n) {
                uint64_t w; memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL) break;
                i += 8;
            }
            if (i >= n) break;
            unsigned char c = s[i];
            if (c < 0x80) { i++; continue; }
            if (c < 0xC2) return 0;
            if (c < 0xE0) { if (i + 1 >= n || (s[i+1] & 0xC0) != 0x80) return 0; i += 2; continue; }
            if (c < 0xF0) {
                if (i + 2 >= n) return 0;
                unsigned char c1 = s[i+1], c2 = s[i+2];
                if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return 0;
                if (c == 0xE0 && c1 < 0xA0) return 0;   /* overlong */
                if (c == 0xED && c1 >= 0xA0) return 0;  /* surrogate */
                i += 3; continue;
            }
            if (c < 0xF5) {
                if (i + 3 >= n) return 0;
                unsigned char c1 = s[i+1], c2 = s[i+2], c3 = s[i+3];
                if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c3 & 0xC0) != 0x80) return 0;
                if (c == 0xF0 && c1 < 0x90) return 0;   /* overlong */
                if (c == 0xF4 && c1 >= 0x90) return 0;  /* > U+10FFFF */
                i += 4; continue;
            }
            return 0;
        }
        return 1;
    }

    /* Byte length of the first maxcp code points of valid UTF-8 (Python's s[:maxcp]). */
    static Py_ssize_t fs_trunc_cp(const unsigned char *s, Py_ssize_t n, Py_ssize_t maxcp) {
        if (n <= maxcp) return n;
        Py_ssize_t cp = 0, i = 0;
        for (; i < n; i++) {
            if ((s[i] & 0xC0) != 0x80) { if (cp == maxcp) return i; cp++; }
        }
        return n;
    }

    /* A JSON string body as orjson writes it: \\" \\\\ \\b \\t \\n \\f \\r, \\u00xx for the
       other control characters, everything else (DEL, non-ASCII) raw.
       dst needs 6*n bytes. */
    static const char FS_HEX[] = "0123456789abcdef";
    static Py_ssize_t fs_escape(char *dst, const unsigned char *s, Py_ssize_t n) {
        char *d = dst;
        Py_ssize_t i = 0, run = 0;
        for (i = 0; i < n; i++) {
            unsigned char c = s[i];
            if (c >= 0x20 && c != '"' && c != '\\\\') continue;
            if (i > run) { memcpy(d, s + run, i - run); d += i - run; }
            run = i + 1;
            *d++ = '\\\\';
            switch (c) {
                case '"': *d++ = '"'; break;
                case '\\\\': *d++ = '\\\\'; break;
                case '\\b': *d++ = 'b'; break;
                case '\\t': *d++ = 't'; break;
                case '\\n': *d++ = 'n'; break;
                case '\\f': *d++ = 'f'; break;
                case '\\r': *d++ = 'r'; break;
                default: *d++ = 'u'; *d++ = '0'; *d++ = '0'; *d++ = FS_HEX[c >> 4]; *d++ = FS_HEX[c & 15];
            }
        }
        if (n > run) { memcpy(d, s + run, n - run); d += n - run; }
        return d - dst;
    }

    static Py_ssize_t fs_hex(char *dst, const unsigned char *s, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) { dst[2*i] = FS_HEX[s[i] >> 4]; dst[2*i+1] = FS_HEX[s[i] & 15]; }
        return 2 * n;
    }

    /* Standard base64 with padding (base64.b64encode). dst needs 4*((n+2)/3) bytes. */
    static const char FS_B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static Py_ssize_t fs_b64(char *dst, const unsigned char *s, Py_ssize_t n) {
        char *d = dst; Py_ssize_t i = 0;
        for (; i + 3 <= n; i += 3) {
            uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i+1] << 8) | s[i+2];
            *d++ = FS_B64[v >> 18]; *d++ = FS_B64[(v >> 12) & 63]; *d++ = FS_B64[(v >> 6) & 63]; *d++ = FS_B64[v & 63];
        }
        if (n - i == 1) {
            uint32_t v = (uint32_t)s[i] << 16;
            *d++ = FS_B64[v >> 18]; *d++ = FS_B64[(v >> 12) & 63]; *d++ = '='; *d++ = '=';
        } else if (n - i == 2) {
            uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i+1] << 8);
            *d++ = FS_B64[v >> 18]; *d++ = FS_B64[(v >> 12) & 63]; *d++ = FS_B64[(v >> 6) & 63]; *d++ = '=';
        }
        return d - dst;
    }

    /* Decimal int64 (no locale: plain digits). dst needs 20 bytes. */
    static Py_ssize_t fs_int(char *dst, int64_t v) {
        char t[24]; int k = 0;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        do { t[k++] = (char)('0' + u % 10); u /= 10; } while (u);
        Py_ssize_t n = 0;
        if (v < 0) dst[n++] = '-';
        while (k) dst[n++] = t[--k];
        return n;
    }

    /* Shortest round-trip digits of a finite a > 0: m * 10^E with the fewest digits
       that strtod reads back as a, found by trying %.*e precisions 1..17 (and, at
       each precision, the neighbours of the nearest decimal: the shortest is not
       always the nearest). Locale-independent: the %e output is read for its
       digits and exponent only (whatever radix character the locale puts between
       them is skipped), and candidates are checked as "<digits>e<exp>", which has
       no radix character. Returns 0 if nothing round-trips (a broken libc). */
    static int fs_try(double a, unsigned long long m, int E) {
        char t[48]; snprintf(t, sizeof t, "%llue%d", m, E); return strtod(t, NULL) == a;
    }
    static int fs_shortest(double a, unsigned long long *pm, int *pE) {
        char tmp[64];
        for (int p = 1; p <= 17; p++) {
            int len = snprintf(tmp, sizeof tmp, "%.*e", p - 1, a);
            if (len <= 0 || len >= (int)sizeof tmp) return 0;
            unsigned long long m = 0; int nd = 0, i = 0;
            for (; i < len && tmp[i] != 'e'; i++)
                if (tmp[i] >= '0' && tmp[i] <= '9') { m = m * 10 + (unsigned)(tmp[i] - '0'); nd++; }
            if (i >= len || nd != p) return 0;
            i++;
            int neg = 0, x = 0;
            if (i < len && (tmp[i] == '-' || tmp[i] == '+')) { neg = tmp[i] == '-'; i++; }
            for (; i < len && tmp[i] >= '0' && tmp[i] <= '9'; i++) x = x * 10 + (tmp[i] - '0');
            int E = (neg ? -x : x) - (p - 1);
            if (fs_try(a, m, E)) { *pm = m; *pE = E; return 1; }
            if (m > 1 && fs_try(a, m - 1, E)) { *pm = m - 1; *pE = E; return 1; }
            if (fs_try(a, m + 1, E)) { *pm = m + 1; *pE = E; return 1; }
        }
        return 0;
    }

    /* A double as orjson prints it: shortest round-trip digits; positional for
       1e-5 <= |v| < 1e16 (with ".0" for integral values), else d.ddde[+-]x;
       NaN and infinities are null. dst needs 32 bytes. Returns 0 on failure. */
    static Py_ssize_t fs_double(char *dst, double v) {
        if (!isfinite(v)) { memcpy(dst, "null", 4); return 4; }
        char *d = dst;
        if (signbit(v)) *d++ = '-';
        if (v == 0) { memcpy(d, "0.0", 3); return d + 3 - dst; }
        unsigned long long m; int E;
        if (!fs_shortest(fabs(v), &m, &E)) return 0;
        char digits[24]; int nd = 0;
        { char t[24]; int k = 0; do { t[k++] = (char)('0' + m % 10); m /= 10; } while (m);
          while (k) digits[nd++] = t[--k]; }
        int kk = nd + E;  /* value = 0.digits * 10^kk */
        while (nd > 1 && digits[nd-1] == '0') nd--;
        if (nd <= kk && kk <= 16) {
            memcpy(d, digits, nd); d += nd; for (int i = nd; i < kk; i++) *d++ = '0'; *d++ = '.'; *d++ = '0';
        } else if (0 < kk && kk <= 16) {
            memcpy(d, digits, kk); d += kk; *d++ = '.'; memcpy(d, digits + kk, nd - kk); d += nd - kk;
        } else if (-5 < kk && kk <= 0) {
            *d++ = '0'; *d++ = '.'; for (int i = 0; i < -kk; i++) *d++ = '0'; memcpy(d, digits, nd); d += nd;
        } else {
            *d++ = digits[0];
            if (nd > 1) { *d++ = '.'; memcpy(d, digits + 1, nd - 1); d += nd - 1; }
            *d++ = 'e'; *d++ = (kk - 1 >= 0) ? '+' : '-';
            d += fs_int(d, kk - 1 >= 0 ? kk - 1 : 1 - kk);
        }
        return d - dst;
    }

    /* Attribute keys the conventions read (conventions.py). */
    enum {
        K_OI_KIND, K_OP, K_SYSTEM, K_PROVIDER_NAME, K_REQ_MODEL, K_RESP_MODEL, K_LLM_MODEL, K_EMB_MODEL,
        K_LLM_PROVIDER, K_LLM_SYSTEM, K_RETRIEVAL,
        K_IN_TOK1, K_IN_TOK2, K_IN_TOK3, K_OUT_TOK1, K_OUT_TOK2, K_OUT_TOK3,
        K_COST1, K_COST2, K_COST3,
        K_SESS1, K_SESS2, K_SESS3, K_USER1, K_USER2, K_USER3,
        K_IN_VALUE, K_OUT_VALUE, K_IN_MIME, K_OUT_MIME, K_IN_MSGS, K_OUT_MSGS, K_SYS_INSTR,
        K_PROMPT, K_COMPLETION, NKEYS
    };
    static const char *FS_KEYS[NKEYS] = {
        "openinference.span.kind", "gen_ai.operation.name", "gen_ai.system", "gen_ai.provider.name",
        "gen_ai.request.model", "gen_ai.response.model", "llm.model_name", "embedding.model_name",
        "llm.provider", "llm.system", "retrieval.documents.0.document.content",
        "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
        "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
        "llm.cost.total", "gen_ai.usage.cost", "assay.cost",
        "session.id", "gen_ai.conversation.id", "assay.session_id", "user.id", "enduser.id", "assay.user_id",
        "input.value", "output.value", "input.mime_type", "output.mime_type",
        "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
        "gen_ai.prompt", "gen_ai.completion"
    };
    static Py_ssize_t FS_KEYLEN[NKEYS];
    static void fs_init(void) { for (int i = 0; i < NKEYS; i++) FS_KEYLEN[i] = (Py_ssize_t)strlen(FS_KEYS[i]); }
    static int fs_key_id(const unsigned char *p, Py_ssize_t n) {
        for (int i = 0; i < NKEYS; i++) if (FS_KEYLEN[i] == n && memcmp(FS_KEYS[i], p, (size_t)n) == 0) return i;
        return -1;
    }
    /* Keys starting with a flattened-message prefix (conventions.FLAT_PREFIXES) or
       assay.slice. (normalize.SPECIAL_PREFIXES): their spans take the Python path. */
    static const char *FS_PREFIXES[] = {"llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.", "assay.slice."};
    static int fs_special(const unsigned char *p, Py_ssize_t n) {
        for (int i = 0; i < 5; i++) {
            size_t l = strlen(FS_PREFIXES[i]);
            if ((size_t)n >= l && memcmp(p, FS_PREFIXES[i], l) == 0) return 1;
        }
        return 0;
    }

    /* Span kinds, in the order of KINDS in the .pyx. */
    enum { KIND_SPAN, KIND_LLM, KIND_CHAIN, KIND_RETRIEVAL, KIND_TOOL, KIND_AGENT, KIND_EMBEDDING, KIND_RERANKER, KIND_GUARDRAIL, KIND_EVALUATOR };
    static const char *FS_OI[] = {"LLM", "CHAIN", "RETRIEVER", "TOOL", "AGENT", "EMBEDDING", "RERANKER", "GUARDRAIL", "EVALUATOR"};
    static const int FS_OI_KIND[] = {KIND_LLM, KIND_CHAIN, KIND_RETRIEVAL, KIND_TOOL, KIND_AGENT, KIND_EMBEDDING, KIND_RERANKER, KIND_GUARDRAIL, KIND_EVALUATOR};
    /* conventions.OPENINFERENCE_KINDS[value.upper()]: -1 no match, -2 non-ASCII
       (str.upper() maps some non-ASCII letters to ASCII ones: leave it to Python) */
    static int fs_oi_kind(const unsigned char *p, Py_ssize_t n) {
        char up[16];
        for (Py_ssize_t i = 0; i < n; i++) if (p[i] >= 0x80) return -2;
        if (n >= 16) return -1;
        for (Py_ssize_t i = 0; i < n; i++) up[i] = (char)((p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i]);
        for (int i = 0; i < 9; i++) if ((size_t)n == strlen(FS_OI[i]) && memcmp(up, FS_OI[i], (size_t)n) == 0) return FS_OI_KIND[i];
        return -1;
    }
    /* conventions.GENAI_OPERATIONS */
    static const char *FS_OPS[] = {"chat", "text_completion", "generate_content", "embeddings", "execute_tool", "invoke_agent", "create_agent", "retrieval"};
    static const int FS_OP_KIND[] = {KIND_LLM, KIND_LLM, KIND_LLM, KIND_EMBEDDING, KIND_TOOL, KIND_AGENT, KIND_AGENT, KIND_RETRIEVAL};
    static int fs_op_kind(const unsigned char *p, Py_ssize_t n) {
        for (int i = 0; i < 8; i++) if ((size_t)n == strlen(FS_OPS[i]) && memcmp(p, FS_OPS[i], (size_t)n) == 0) return FS_OP_KIND[i];
        return -1;
    }
    """
    int fs_isfinite(double) nogil
    double fs_trunc(double) nogil
    int fs_utf8_ok(const uint8_t*, Py_ssize_t) nogil
    Py_ssize_t fs_trunc_cp(const uint8_t*, Py_ssize_t, Py_ssize_t) nogil
    Py_ssize_t fs_escape(char*, const uint8_t*, Py_ssize_t) nogil
    Py_ssize_t fs_hex(char*, const uint8_t*, Py_ssize_t) nogil
    Py_ssize_t fs_b64(char*, const uint8_t*, Py_ssize_t) nogil
    Py_ssize_t fs_int(char*, int64_t) nogil
    Py_ssize_t fs_double(char*, double) nogil
    void fs_init()
    int fs_key_id(const uint8_t*, Py_ssize_t) nogil
    int fs_special(const uint8_t*, Py_ssize_t) nogil
    int fs_oi_kind(const uint8_t*, Py_ssize_t) nogil
    int fs_op_kind(const uint8_t*, Py_ssize_t) nogil
    enum:
        K_OI_KIND, K_OP, K_SYSTEM, K_PROVIDER_NAME, K_REQ_MODEL, K_RESP_MODEL, K_LLM_MODEL, K_EMB_MODEL
        K_LLM_PROVIDER, K_LLM_SYSTEM, K_RETRIEVAL
        K_IN_TOK1, K_IN_TOK2, K_IN_TOK3, K_OUT_TOK1, K_OUT_TOK2, K_OUT_TOK3
        K_COST1, K_COST2, K_COST3
        K_SESS1, K_SESS2, K_SESS3, K_USER1, K_USER2, K_USER3
        K_IN_VALUE, K_OUT_VALUE, K_IN_MIME, K_OUT_MIME, K_IN_MSGS, K_OUT_MSGS, K_SYS_INSTR
        K_PROMPT, K_COMPLETION, NKEYS
        KIND_SPAN, KIND_LLM, KIND_RETRIEVAL, KIND_EMBEDDING

fs_init()

# AnyValue types (VT_NONE: unset, or string_value_strindex, both None in to_dict)
cdef enum:
    VT_NONE = 0
    VT_STR = 1
    VT_BOOL = 2
    VT_INT = 3
    VT_DOUBLE = 4
    VT_ARRAY = 5
    VT_KVLIST = 6
    VT_BYTES = 7

cdef enum:
    E_OK = 0
    E_MALFORMED = 1      # ValueError
    E_UTF8 = 2           # ValueError
    E_NOMEM = 3          # MemoryError
    E_UNSUPPORTED = 4    # decode() returns None: the Python path takes the request

cdef enum:
    # Nesting of arrays/kvlists inside one attribute value; deeper is left to upb
    # (whole request), which also bounds the recursion of the functions below.
    # upb refuses messages nested over 100 deep, and each level here is up to three
    # messages (AnyValue, KeyValueList, KeyValue) under at most seven (request to an
    # event's KeyValue): 7 + 3 * 20 stays well below, so whatever this accepts, upb
    # does too, also when it parses a single span of the body on its own.
    MAX_DEPTH = 20
    # Attributes of a span or entries of a kvlist (duplicate keys are resolved in
    # O(n^2)); a span with more takes the Python path, a resource the whole request.
    MAX_ATTRS = 256

cdef enum:
    # emit_value/emit_dict modes
    M_JSON = 0     # the attributes JSON, as orjson.dumps(to_dict(...))
    M_SCAN = 1     # the string values, NUL-separated, as normalize._strings collects them

cdef uint64_t MAX_TIME_NS = 9223372036854775807ULL
cdef int64_t MAX_TOKENS = 1000000000000LL

ctypedef struct KV:
    # one KeyValue (or a bare AnyValue, for array items): offsets into the body
    Py_ssize_t key_off
    Py_ssize_t key_len
    Py_ssize_t v_off
    Py_ssize_t v_len
    int64_t ival
    double dval
    int vtype
    int weird      # protobuf merge semantics somewhere inside: the span takes the Python path
    int nvalue     # KeyValue.value occurrences
    int noneof     # AnyValue oneof occurrences

ctypedef struct SpanRec:
    Py_ssize_t trace_off
    Py_ssize_t trace_len
    Py_ssize_t sid_off
    Py_ssize_t sid_len
    Py_ssize_t par_off
    Py_ssize_t par_len
    Py_ssize_t name_off
    Py_ssize_t name_len      # whole name (what the redaction scan reads)
    Py_ssize_t smsg_off
    Py_ssize_t smsg_len
    uint64_t start
    uint64_t end
    int32_t scode
    Py_ssize_t kv_first
    Py_ssize_t kv_count
    int fallback             # the Python path takes this span
    Py_ssize_t body_off      # the span's own message in the body, so the Python
    Py_ssize_t body_len      # path can parse it alone
    int res_idx
    int scope_idx
    int span_idx
    # results of process_span
    Py_ssize_t name_cut      # name_len cut to 500 code points
    Py_ssize_t hex_off
    int par_hex
    Py_ssize_t attrs_off
    Py_ssize_t attrs_len
    Py_ssize_t scan_off
    Py_ssize_t scan_len
    int kind
    Py_ssize_t in_off
    Py_ssize_t in_len        # -1: None
    Py_ssize_t out_off
    Py_ssize_t out_len
    Py_ssize_t model_off
    Py_ssize_t model_len
    Py_ssize_t prov_off
    Py_ssize_t prov_len
    Py_ssize_t sess_off
    Py_ssize_t sess_len
    Py_ssize_t user_off
    Py_ssize_t user_len
    int64_t ptok             # -1: None
    int64_t ctok
    int has_cost
    double cost
    int any_slice

ctypedef struct ResRec:
    Py_ssize_t kv_first
    Py_ssize_t kv_count
    int seen
    Py_ssize_t json_off
    Py_ssize_t json_len

ctypedef struct Ctx:
    const uint8_t* b         # the body
    Py_ssize_t n
    int scan                 # build the redaction scan text
    KV* kvs                  # top-level attributes of all resources and spans
    Py_ssize_t nkv
    Py_ssize_t capkv
    SpanRec* spans
    Py_ssize_t nspan
    Py_ssize_t capspan
    ResRec* res
    Py_ssize_t nres
    Py_ssize_t capres
    char* out                # all generated text (hex ids, JSON, scan text)
    Py_ssize_t nout
    Py_ssize_t capout
    uint8_t* drop            # per attribute of the current span: dropped by drop_used
    Py_ssize_t capdrop
    int* slice_idx           # per span and slice key: the kv index of its value, or -1
    Py_ssize_t capslice
    Py_ssize_t nslice
    const char** slice_ptr
    Py_ssize_t* slice_len
    Py_ssize_t scan_items    # strings written so far to the current scan text
    int nonfinite            # a NaN or infinity was written
    int bad_double           # a double could not be formatted
    int err
    Py_ssize_t err_pos


# ---------------------------------------------------------------- wire reading

cdef inline int fail(Ctx* c, int err, Py_ssize_t pos) noexcept nogil:
    if c.err == E_OK:
        c.err = err
        c.err_pos = pos
    return -1

cdef inline int rd_varint(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, uint64_t* out) noexcept nogil:
    # At most 10 bytes; bits past 64 in the 10th are dropped, as upb does.
    cdef uint64_t r = 0
    cdef int shift = 0
    cdef uint8_t ch
    cdef Py_ssize_t p = pos[0]
    while True:
        if p >= end:
            return fail(c, E_MALFORMED, p)
        ch = c.b[p]
        p += 1
        r |= (<uint64_t>(ch & 0x7f)) << shift
        if ch < 0x80:
            out[0] = r
            pos[0] = p
            return 0
        shift += 7
        if shift >= 70:
            return fail(c, E_MALFORMED, p)

cdef inline int rd_tag(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, uint32_t* field, int* wt) noexcept nogil:
    cdef uint64_t t
    if rd_varint(c, pos, end, &t) < 0:
        return -1
    if t > 0xFFFFFFFFULL or (t >> 3) == 0:
        return fail(c, E_MALFORMED, pos[0])
    field[0] = <uint32_t>(t >> 3)
    wt[0] = <int>(t & 7)
    return 0

cdef inline int rd_len(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, Py_ssize_t* off, Py_ssize_t* ln) noexcept nogil:
    cdef uint64_t l
    if rd_varint(c, pos, end, &l) < 0:
        return -1
    if l > <uint64_t>(end - pos[0]):
        return fail(c, E_MALFORMED, pos[0])
    off[0] = pos[0]
    ln[0] = <Py_ssize_t>l
    pos[0] += <Py_ssize_t>l
    return 0

cdef inline int rd_fixed64(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, uint64_t* out) noexcept nogil:
    # little-endian on the wire, assembled byte by byte: right on any host
    cdef uint64_t v = 0
    cdef int i
    if end - pos[0] < 8:
        return fail(c, E_MALFORMED, pos[0])
    for i in range(7, -1, -1):
        v = (v << 8) | c.b[pos[0] + i]
    out[0] = v
    pos[0] += 8
    return 0

cdef inline int skip_field(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, int wt) noexcept nogil:
    cdef uint64_t v
    cdef Py_ssize_t o, l
    if wt == 0:
        return rd_varint(c, pos, end, &v)
    if wt == 1:
        if end - pos[0] < 8:
            return fail(c, E_MALFORMED, pos[0])
        pos[0] += 8
        return 0
    if wt == 2:
        return rd_len(c, pos, end, &o, &l)
    if wt == 5:
        if end - pos[0] < 4:
            return fail(c, E_MALFORMED, pos[0])
        pos[0] += 4
        return 0
    if wt == 3:
        return fail(c, E_UNSUPPORTED, pos[0])  # a group: leave its parsing to upb
    return fail(c, E_MALFORMED, pos[0])        # 4 (end group without a start), 6, 7

cdef inline int rd_string(Ctx* c, Py_ssize_t* pos, Py_ssize_t end, Py_ssize_t* off, Py_ssize_t* ln) noexcept nogil:
    if rd_len(c, pos, end, off, ln) < 0:
        return -1
    if not fs_utf8_ok(c.b + off[0], ln[0]):
        return fail(c, E_UTF8, off[0])
    return 0

# ---------------------------------------------------------------- growable arrays

cdef int grow(void** p, Py_ssize_t* cap, Py_ssize_t need, size_t item) noexcept nogil:
    cdef Py_ssize_t nc
    cdef void* q
    if need <= cap[0]:
        return 0
    if need > (<Py_ssize_t>0x3FFFFFFFFFFFFFFF) // <Py_ssize_t>item // 2:
        return -1   # the size would overflow
    nc = cap[0] * 2 if cap[0] else 64
    while nc < need:
        nc *= 2
    q = realloc(p[0], <size_t>nc * item)
    if q == NULL:
        return -1
    p[0] = q
    cap[0] = nc
    return 0

cdef inline int ensure(Ctx* c, Py_ssize_t extra) noexcept nogil:
    if c.nout + extra <= c.capout:
        return 0
    if grow(<void**>&c.out, &c.capout, c.nout + extra, 1) < 0:
        return fail(c, E_NOMEM, 0)
    return 0

cdef inline int put(Ctx* c, const char* s, Py_ssize_t n) noexcept nogil:
    if ensure(c, n) < 0:
        return -1
    memcpy(c.out + c.nout, s, n)
    c.nout += n
    return 0

# ---------------------------------------------------------------- AnyValue / KeyValue

cdef int parse_anyvalue(Ctx* c, Py_ssize_t pos, Py_ssize_t end, KV* kv, int depth, int deep) noexcept nogil:
    """Read an AnyValue into kv. With ``deep``, arrays and kvlists are checked
    through (wire format, UTF-8, merges); without, they were checked already and
    only their extent is recorded."""
    cdef uint32_t f
    cdef int wt
    cdef uint64_t v
    cdef Py_ssize_t o, l
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
            kv.vtype = VT_STR; kv.v_off = o; kv.v_len = l; kv.noneof += 1
        elif f == 2 and wt == 0:
            if rd_varint(c, &pos, end, &v) < 0:
                return -1
            kv.vtype = VT_BOOL; kv.ival = 1 if v else 0; kv.noneof += 1
        elif f == 3 and wt == 0:
            if rd_varint(c, &pos, end, &v) < 0:
                return -1
            kv.vtype = VT_INT; kv.ival = <int64_t>v; kv.noneof += 1
        elif f == 4 and wt == 1:
            if rd_fixed64(c, &pos, end, &v) < 0:
                return -1
            kv.vtype = VT_DOUBLE; memcpy(&kv.dval, &v, 8); kv.noneof += 1
        elif (f == 5 or f == 6) and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if deep:
                if depth >= MAX_DEPTH:
                    # not checked any further, so not ours to accept
                    return fail(c, E_UNSUPPORTED, o)
                if f == 5:
                    if check_array(c, o, o + l, depth + 1, &kv.weird) < 0:
                        return -1
                elif check_kvlist(c, o, o + l, depth + 1, &kv.weird) < 0:
                    return -1
            kv.vtype = VT_ARRAY if f == 5 else VT_KVLIST; kv.v_off = o; kv.v_len = l; kv.noneof += 1
        elif f == 7 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            kv.vtype = VT_BYTES; kv.v_off = o; kv.v_len = l; kv.noneof += 1
        elif f == 8 and wt == 0:
            # string_value_strindex: a oneof member any_value() maps to None
            if rd_varint(c, &pos, end, &v) < 0:
                return -1
            kv.vtype = VT_NONE; kv.noneof += 1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    if kv.noneof > 1:
        kv.weird = 1   # oneof set twice (last wins, messages merge): leave to upb
    return 0

cdef int parse_kv(Ctx* c, Py_ssize_t pos, Py_ssize_t end, KV* kv, int depth, int deep) noexcept nogil:
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    memset(kv, 0, sizeof(KV))
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            # a repeated key: the last one wins, in upb too
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
            kv.key_off = o; kv.key_len = l
        elif f == 2 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            kv.nvalue += 1
            if parse_anyvalue(c, o, o + l, kv, depth, deep) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    if kv.nvalue > 1:
        kv.weird = 1   # value sent twice: upb merges the messages
    return 0

cdef int check_array(Ctx* c, Py_ssize_t pos, Py_ssize_t end, int depth, int* weird) noexcept nogil:
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef KV tmp
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            memset(&tmp, 0, sizeof(KV))
            if parse_anyvalue(c, o, o + l, &tmp, depth, 1) < 0:
                return -1
            if tmp.weird:
                weird[0] = 1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

cdef int check_kvlist(Ctx* c, Py_ssize_t pos, Py_ssize_t end, int depth, int* weird) noexcept nogil:
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef KV tmp
    cdef Py_ssize_t count = 0
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if parse_kv(c, o, o + l, &tmp, depth, 1) < 0:
                return -1
            if tmp.weird:
                weird[0] = 1
            count += 1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    if count > MAX_ATTRS:
        weird[0] = 1
    return 0

cdef int check_attributes(Ctx* c, Py_ssize_t pos, Py_ssize_t end, uint32_t attr_field, uint32_t str1, uint32_t str2) noexcept nogil:
    """Check a message whose contents are not used: InstrumentationScope, Span.Event,
    Span.Link, EntityRef. ``attr_field`` is its repeated KeyValue field (0: none);
    ``str1``/``str2`` its string fields (0: none), whose UTF-8 upb checks."""
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef KV tmp
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if wt == 2 and f != 0 and (f == str1 or f == str2):
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
        elif wt == 2 and f != 0 and f == attr_field:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if parse_kv(c, o, o + l, &tmp, 0, 1) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

cdef int check_entity_ref(Ctx* c, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
    # EntityRef: schema_url 1, type 2, id_keys 3, description_keys 4, all strings
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if wt == 2 and 1 <= f <= 4:
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

# ---------------------------------------------------------------- request structure

cdef inline KV* push_kv(Ctx* c) noexcept nogil:
    if grow(<void**>&c.kvs, &c.capkv, c.nkv + 1, sizeof(KV)) < 0:
        fail(c, E_NOMEM, 0)
        return NULL
    c.nkv += 1
    return &c.kvs[c.nkv - 1]

cdef int parse_status(Ctx* c, Py_ssize_t pos, Py_ssize_t end, SpanRec* sp) noexcept nogil:
    # Status: message 2, code 3 (an open enum: int32 of the varint, as upb)
    cdef uint32_t f
    cdef int wt
    cdef uint64_t v
    cdef Py_ssize_t o, l
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 2 and wt == 2:
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
            sp.smsg_off = o; sp.smsg_len = l
        elif f == 3 and wt == 0:
            if rd_varint(c, &pos, end, &v) < 0:
                return -1
            sp.scode = <int32_t><uint32_t>(v & 0xFFFFFFFFULL)
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

cdef int parse_span(Ctx* c, Py_ssize_t pos, Py_ssize_t end, int res_idx, int scope_idx, int span_idx) noexcept nogil:
    # Span fields (trace.proto); a scalar field sent twice: the last wins, as in upb
    cdef uint32_t f
    cdef int wt
    cdef uint64_t v
    cdef Py_ssize_t o, l
    cdef SpanRec* sp
    cdef KV* kv
    if grow(<void**>&c.spans, &c.capspan, c.nspan + 1, sizeof(SpanRec)) < 0:
        return fail(c, E_NOMEM, 0)
    sp = &c.spans[c.nspan]
    c.nspan += 1
    memset(sp, 0, sizeof(SpanRec))
    sp.res_idx = res_idx
    sp.scope_idx = scope_idx
    sp.span_idx = span_idx
    sp.body_off = pos
    sp.body_len = end - pos
    sp.kv_first = c.nkv
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if wt == 2 and (f == 3 or f == 5):           # trace_state, name
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
            if f == 5:
                sp.name_off = o; sp.name_len = l
        elif wt == 2 and (f == 1 or f == 2 or f == 4 or f == 9 or f == 11 or f == 13 or f == 15):
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if f == 1:
                sp.trace_off = o; sp.trace_len = l
            elif f == 2:
                sp.sid_off = o; sp.sid_len = l
            elif f == 4:
                sp.par_off = o; sp.par_len = l
            elif f == 9:                              # attributes
                kv = push_kv(c)
                if kv == NULL:
                    return -1
                if parse_kv(c, o, o + l, kv, 0, 1) < 0:
                    return -1
            elif f == 11:                             # events: Python path
                sp.fallback = 1
                if check_attributes(c, o, o + l, 3, 2, 0) < 0:
                    return -1
            elif f == 13:                             # links: Python path
                sp.fallback = 1
                if check_attributes(c, o, o + l, 4, 3, 0) < 0:
                    return -1
            else:                                     # status
                if parse_status(c, o, o + l, sp) < 0:
                    return -1
        elif (f == 7 or f == 8) and wt == 1:          # start, end (fixed64)
            if rd_fixed64(c, &pos, end, &v) < 0:
                return -1
            if f == 7:
                sp.start = v
            else:
                sp.end = v
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    sp.kv_count = c.nkv - sp.kv_first
    return 0

cdef int parse_resource(Ctx* c, Py_ssize_t pos, Py_ssize_t end, ResRec* r) noexcept nogil:
    # Resource: attributes 1, entity_refs 3
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef KV* kv
    r.kv_first = c.nkv
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            kv = push_kv(c)
            if kv == NULL:
                return -1
            if parse_kv(c, o, o + l, kv, 0, 1) < 0:
                return -1
            if kv.weird:
                return fail(c, E_UNSUPPORTED, o)
        elif f == 3 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if check_entity_ref(c, o, o + l) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    r.kv_count = c.nkv - r.kv_first
    if r.kv_count > MAX_ATTRS:
        return fail(c, E_UNSUPPORTED, pos)
    return 0

cdef int parse_scope_spans(Ctx* c, Py_ssize_t pos, Py_ssize_t end, int res_idx, int scope_idx) noexcept nogil:
    # ScopeSpans: scope 1, spans 2, schema_url 3
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef int span_idx = 0
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            # InstrumentationScope: name 1, version 2, attributes 3
            if check_attributes(c, o, o + l, 3, 1, 2) < 0:
                return -1
        elif f == 2 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if span_idx == 0x7FFFFFFF:
                return fail(c, E_UNSUPPORTED, o)
            if parse_span(c, o, o + l, res_idx, scope_idx, span_idx) < 0:
                return -1
            span_idx += 1
        elif f == 3 and wt == 2:
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

cdef int parse_resource_spans(Ctx* c, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
    # ResourceSpans: resource 1, scope_spans 2, schema_url 3
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    cdef int idx, scope_idx = 0
    if c.nres >= 0x7FFFFFFF:
        return fail(c, E_UNSUPPORTED, pos)
    if grow(<void**>&c.res, &c.capres, c.nres + 1, sizeof(ResRec)) < 0:
        return fail(c, E_NOMEM, 0)
    idx = <int>c.nres
    c.nres += 1
    memset(&c.res[idx], 0, sizeof(ResRec))
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if c.res[idx].seen:
                return fail(c, E_UNSUPPORTED, o)  # resource sent twice: upb merges them
            c.res[idx].seen = 1
            if parse_resource(c, o, o + l, &c.res[idx]) < 0:
                return -1
        elif f == 2 and wt == 2:
            if rd_len(c, &pos, end, &o, &l) < 0:
                return -1
            if scope_idx == 0x7FFFFFFF:
                return fail(c, E_UNSUPPORTED, o)
            if parse_scope_spans(c, o, o + l, idx, scope_idx) < 0:
                return -1
            scope_idx += 1
        elif f == 3 and wt == 2:
            if rd_string(c, &pos, end, &o, &l) < 0:
                return -1
        elif skip_field(c, &pos, end, wt) < 0:
            return -1
    return 0

cdef int parse_request(Ctx* c) noexcept nogil:
    # ExportTraceServiceRequest: resource_spans 1
    cdef Py_ssize_t pos = 0
    cdef uint32_t f
    cdef int wt
    cdef Py_ssize_t o, l
    while pos < c.n:
        if rd_tag(c, &pos, c.n, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            if rd_len(c, &pos, c.n, &o, &l) < 0:
                return -1
            if parse_resource_spans(c, o, o + l) < 0:
                return -1
        elif skip_field(c, &pos, c.n, wt) < 0:
            return -1
    return 0

# ---------------------------------------------------------------- JSON and scan text

cdef inline int same_key(Ctx* c, KV* a, KV* b) noexcept nogil:
    return a.key_len == b.key_len and memcmp(c.b + a.key_off, c.b + b.key_off, a.key_len) == 0

cdef inline int emit_str(Ctx* c, Py_ssize_t off, Py_ssize_t ln) noexcept nogil:
    if ensure(c, 6 * ln + 2) < 0:
        return -1
    c.out[c.nout] = b'"'
    c.nout += 1
    c.nout += fs_escape(c.out + c.nout, c.b + off, ln)
    c.out[c.nout] = b'"'
    c.nout += 1
    return 0

cdef inline int scan_item(Ctx* c, const uint8_t* s, Py_ssize_t ln) noexcept nogil:
    """One string of the scan text (NUL-separated, as "\\x00".join)."""
    if ensure(c, ln + 1) < 0:
        return -1
    if c.scan_items:
        c.out[c.nout] = 0
        c.nout += 1
    c.scan_items += 1
    if ln:
        memcpy(c.out + c.nout, s, ln)
        c.nout += ln
    return 0

cdef int emit_value(Ctx* c, KV* kv, int mode) noexcept nogil:
    cdef Py_ssize_t pos, end, o, l
    cdef uint32_t f
    cdef int wt, first
    cdef KV tmp
    cdef KV* arr
    cdef Py_ssize_t cnt, i, n
    cdef int rc
    if kv.vtype == VT_STR:
        if mode == M_SCAN:
            return scan_item(c, c.b + kv.v_off, kv.v_len)
        return emit_str(c, kv.v_off, kv.v_len)
    if kv.vtype == VT_BYTES:
        # to_dict makes bytes a base64 str
        if ensure(c, 4 * ((kv.v_len + 2) // 3) + 2) < 0:
            return -1
        if mode == M_SCAN:
            if c.scan_items:
                c.out[c.nout] = 0
                c.nout += 1
            c.scan_items += 1
            c.nout += fs_b64(c.out + c.nout, c.b + kv.v_off, kv.v_len)
            return 0
        c.out[c.nout] = b'"'
        c.nout += 1
        c.nout += fs_b64(c.out + c.nout, c.b + kv.v_off, kv.v_len)
        c.out[c.nout] = b'"'
        c.nout += 1
        return 0
    if kv.vtype != VT_ARRAY and kv.vtype != VT_KVLIST:
        if mode == M_SCAN:
            return 0   # not a string
        if kv.vtype == VT_NONE:
            return put(c, "null", 4)
        if kv.vtype == VT_BOOL:
            return put(c, "true", 4) if kv.ival else put(c, "false", 5)
        if kv.vtype == VT_INT:
            if ensure(c, 24) < 0:
                return -1
            c.nout += fs_int(c.out + c.nout, kv.ival)
            return 0
        # VT_DOUBLE
        if not fs_isfinite(kv.dval):
            c.nonfinite = 1
        if ensure(c, 40) < 0:
            return -1
        n = fs_double(c.out + c.nout, kv.dval)
        if n == 0:
            c.bad_double = 1
            return put(c, "null", 4)   # placeholder: the span takes the Python path
        c.nout += n
        return 0
    # Arrays and kvlists were checked when their attribute was read: read them
    # shallowly here. Their nesting is below MAX_DEPTH, which bounds this recursion.
    pos = kv.v_off
    end = kv.v_off + kv.v_len
    if kv.vtype == VT_ARRAY:
        if mode == M_JSON and put(c, "[", 1) < 0:
            return -1
        first = 1
        while pos < end:
            if rd_tag(c, &pos, end, &f, &wt) < 0:
                return -1
            if f == 1 and wt == 2:
                if rd_len(c, &pos, end, &o, &l) < 0:
                    return -1
                memset(&tmp, 0, sizeof(KV))
                if parse_anyvalue(c, o, o + l, &tmp, 0, 0) < 0:
                    return -1
                if mode == M_JSON and not first and put(c, ",", 1) < 0:
                    return -1
                first = 0
                if emit_value(c, &tmp, mode) < 0:
                    return -1
            elif skip_field(c, &pos, end, wt) < 0:
                return -1
        return put(c, "]", 1) if mode == M_JSON else 0
    # a kvlist: a dict, like the attributes themselves
    cnt = 0
    while pos < end:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            return -1
        if f == 1 and wt == 2:
            cnt += 1
        if skip_field(c, &pos, end, wt) < 0:
            return -1
    arr = <KV*>malloc((cnt + 1) * sizeof(KV))   # cnt <= MAX_ATTRS (else the span fell back)
    if arr == NULL:
        return fail(c, E_NOMEM, 0)
    pos = kv.v_off
    i = 0
    rc = 0
    while pos < end and rc == 0:
        if rd_tag(c, &pos, end, &f, &wt) < 0:
            rc = -1
        elif f == 1 and wt == 2:
            if i >= cnt or rd_len(c, &pos, end, &o, &l) < 0 or parse_kv(c, o, o + l, &arr[i], 0, 0) < 0:
                rc = -1
            i += 1
        elif skip_field(c, &pos, end, wt) < 0:
            rc = -1
    if rc == 0:
        rc = emit_dict(c, arr, cnt, NULL, mode)
    free(arr)
    return rc

cdef int emit_dict(Ctx* c, KV* arr, Py_ssize_t n, const uint8_t* drop, int mode) noexcept nogil:
    """KeyValues as a dict: each key at its first position with its last value
    (later keys win, as in to_dict). ``drop[i]``: leave arr[i] out (drop_used)."""
    cdef Py_ssize_t i, j, last
    cdef int first = 1, dup
    if mode == M_JSON and put(c, "{", 1) < 0:
        return -1
    for i in range(n):
        if drop != NULL and drop[i]:
            continue
        dup = 0
        for j in range(i):
            if (drop == NULL or not drop[j]) and same_key(c, &arr[j], &arr[i]):
                dup = 1
                break
        if dup:
            continue
        last = i
        j = n - 1
        while j > i:
            if (drop == NULL or not drop[j]) and same_key(c, &arr[j], &arr[i]):
                last = j
                break
            j -= 1
        if mode == M_JSON:
            if not first and put(c, ",", 1) < 0:
                return -1
            first = 0
            if emit_str(c, arr[i].key_off, arr[i].key_len) < 0:
                return -1
            if put(c, ":", 1) < 0:
                return -1
        if emit_value(c, &arr[last], mode) < 0:
            return -1
    return put(c, "}", 1) if mode == M_JSON else 0

# ---------------------------------------------------------------- per span

cdef inline int str_of(Ctx* c, int* idx, int k, Py_ssize_t* off, Py_ssize_t* ln) noexcept nogil:
    """conventions._str(attrs.get(key)): 1 if a non-empty string."""
    cdef int i = idx[k]
    if i < 0:
        return 0
    if c.kvs[i].vtype == VT_STR and c.kvs[i].v_len > 0:
        off[0] = c.kvs[i].v_off
        ln[0] = c.kvs[i].v_len
        return 1
    return 0

cdef int64_t tokens_of(Ctx* c, int* idx, int k1, int* fallback) noexcept nogil:
    """conventions._int(conventions._first(attrs, keys)) over keys k1..k1+2; -1 for None."""
    cdef int k, i, vt
    cdef KV* kv
    cdef double t
    cdef Py_ssize_t p, e
    cdef int64_t acc
    for k in range(k1, k1 + 3):
        i = idx[k]
        if i < 0:
            continue
        kv = &c.kvs[i]
        vt = kv.vtype
        if vt == VT_NONE:
            continue     # _first skips None
        if vt == VT_INT:
            return kv.ival if 0 <= kv.ival <= MAX_TOKENS else -1
        if vt == VT_DOUBLE:
            if not fs_isfinite(kv.dval):
                return -1
            t = fs_trunc(kv.dval)
            return <int64_t>t if 0.0 <= t <= 1e12 else -1
        if vt == VT_STR:
            # str.isdecimal() then int()
            e = kv.v_off + kv.v_len
            if kv.v_len == 0:
                return -1
            for p in range(kv.v_off, e):
                if c.b[p] >= 0x80:
                    fallback[0] = 1   # isdecimal() takes non-ASCII digits too
                    return -1
                if c.b[p] < 48 or c.b[p] > 57:
                    return -1
            p = kv.v_off
            while p < e and c.b[p] == 48:
                p += 1
            if e - p > 13:
                return -1
            acc = 0
            while p < e:
                acc = acc * 10 + (c.b[p] - 48)
                p += 1
            return acc if acc <= MAX_TOKENS else -1
        return -1   # bool, list, dict (bytes fell back before)
    return -1

cdef int process_span(Ctx* c, SpanRec* sp) noexcept nogil:
    """normalize.add_span for one span, with redaction off; sets sp.fallback when
    the Python path must do it. Returns -1 on an error (c.err says which)."""
    cdef int idx[NKEYS]          # kv index of each convention key (its last occurrence)
    cdef int kid[MAX_ATTRS]      # convention key of each attribute, or -1
    cdef Py_ssize_t i, j, n = sp.kv_count
    cdef KV* kvs = c.kvs + sp.kv_first
    cdef int k, kind, side, prefer, vi, gi, li, value_none, fallback = 0, model_cut = 0
    cdef uint64_t used = 0       # bit k: convention key k is dropped (drop_used)
    cdef Py_ssize_t o, l
    cdef int nz
    cdef int* sl

    # ids and times: normalize_traces rejects the span, with a message only the
    # Python path writes, so the whole request goes there
    nz = 0
    for i in range(sp.trace_len):
        nz |= c.b[sp.trace_off + i]
    j = 0
    for i in range(sp.sid_len):
        j |= c.b[sp.sid_off + i]
    if sp.trace_len != 16 or sp.sid_len != 8 or nz == 0 or j == 0:
        return fail(c, E_UNSUPPORTED, sp.trace_off)
    if sp.end < sp.start:
        sp.end = sp.start
    if sp.end > MAX_TIME_NS:
        return fail(c, E_UNSUPPORTED, sp.trace_off)
    if sp.fallback:
        return 0
    if n > MAX_ATTRS:
        sp.fallback = 1
        return 0

    for k in range(NKEYS):
        idx[k] = -1
    for i in range(n):
        if kvs[i].weird:
            sp.fallback = 1
            return 0
        k = fs_key_id(c.b + kvs[i].key_off, kvs[i].key_len)
        kid[i] = k
        if k >= 0:
            idx[k] = <int>(sp.kv_first + i)
        elif fs_special(c.b + kvs[i].key_off, kvs[i].key_len):
            sp.fallback = 1    # flattened messages, assay.slice.*
            return 0
    for k in range(NKEYS):
        if idx[k] >= 0 and c.kvs[idx[k]].vtype == VT_BYTES:
            sp.fallback = 1    # any_value() makes bytes a base64 str: leave to Python
            return 0

    # conventions.kind
    kind = -1
    i = idx[K_OI_KIND]
    if i >= 0 and c.kvs[i].vtype == VT_STR:
        kind = fs_oi_kind(c.b + c.kvs[i].v_off, c.kvs[i].v_len)
        if kind == -2:
            sp.fallback = 1
            return 0
    if kind < 0:
        i = idx[K_OP]
        if i >= 0 and c.kvs[i].vtype == VT_STR:
            kind = fs_op_kind(c.b + c.kvs[i].v_off, c.kvs[i].v_len)
    if kind < 0:
        if idx[K_SYSTEM] >= 0 or idx[K_PROVIDER_NAME] >= 0 or idx[K_REQ_MODEL] >= 0:
            kind = KIND_LLM
        elif idx[K_RETRIEVAL] >= 0:
            kind = KIND_RETRIEVAL
        else:
            kind = KIND_SPAN
    sp.kind = kind

    # conventions.content (no events: spans with events fell back). Only two forms
    # are done here: a GenAI message string starting with "[" (stored as sent), and
    # a str input.value/output.value; anything to parse or dump goes to Python.
    prefer = kind == KIND_LLM or kind == KIND_EMBEDDING
    sp.in_len = -1
    sp.out_len = -1
    for side in range(2):
        vi = idx[K_IN_VALUE + side]
        gi = idx[K_IN_MSGS + side]
        value_none = vi < 0 or c.kvs[vi].vtype == VT_NONE
        if (gi >= 0 and c.kvs[gi].vtype == VT_STR and c.kvs[gi].v_len > 0
                and c.b[c.kvs[gi].v_off] == 91 and (prefer or value_none)
                and (side == 1 or idx[K_SYS_INSTR] < 0)):
            used |= (<uint64_t>1) << (K_IN_MSGS + side)
            o = c.kvs[gi].v_off
            l = c.kvs[gi].v_len
        else:
            if gi >= 0:
                sp.fallback = 1   # messages to parse (_messages)
                return 0
            li = idx[K_PROMPT + side]
            if li >= 0 and c.kvs[li].vtype == VT_STR:
                sp.fallback = 1   # legacy gen_ai.prompt/completion JSON
                return 0
            if value_none:
                continue
            if c.kvs[vi].vtype != VT_STR:
                sp.fallback = 1   # msgs.dumps(value)
                return 0
            used |= ((<uint64_t>1) << (K_IN_VALUE + side)) | ((<uint64_t>1) << (K_IN_MIME + side))
            o = c.kvs[vi].v_off
            l = c.kvs[vi].v_len
        if side == 0:
            sp.in_off = o; sp.in_len = l
        else:
            sp.out_off = o; sp.out_len = l
    # (model, provider, tokens, cost, session and user read none of the dropped keys,
    # so they are read from idx as is.)

    # model, provider, session, user, name: cut in code points
    sp.model_len = -1
    if (str_of(c, idx, K_RESP_MODEL, &o, &l) or str_of(c, idx, K_REQ_MODEL, &o, &l)
            or str_of(c, idx, K_LLM_MODEL, &o, &l) or str_of(c, idx, K_EMB_MODEL, &o, &l)):
        sp.model_off = o; sp.model_len = fs_trunc_cp(c.b + o, l, 200)
        model_cut = sp.model_len != l
    sp.prov_len = -1
    if (str_of(c, idx, K_PROVIDER_NAME, &o, &l) or str_of(c, idx, K_SYSTEM, &o, &l)
            or str_of(c, idx, K_LLM_PROVIDER, &o, &l) or str_of(c, idx, K_LLM_SYSTEM, &o, &l)):
        sp.prov_off = o; sp.prov_len = fs_trunc_cp(c.b + o, l, 100)
    sp.sess_len = -1
    if (str_of(c, idx, K_SESS1, &o, &l) or str_of(c, idx, K_SESS2, &o, &l)
            or str_of(c, idx, K_SESS3, &o, &l)):
        sp.sess_off = o; sp.sess_len = fs_trunc_cp(c.b + o, l, 200)
    sp.user_len = -1
    if (str_of(c, idx, K_USER1, &o, &l) or str_of(c, idx, K_USER2, &o, &l)
            or str_of(c, idx, K_USER3, &o, &l)):
        sp.user_off = o; sp.user_len = fs_trunc_cp(c.b + o, l, 200)
    sp.name_cut = fs_trunc_cp(c.b + sp.name_off, sp.name_len, 500)

    sp.ptok = tokens_of(c, idx, K_IN_TOK1, &fallback)
    sp.ctok = tokens_of(c, idx, K_OUT_TOK1, &fallback)
    if fallback:
        sp.fallback = 1
        return 0
    # conventions.reported_cost: the first int or float (not bool)
    sp.has_cost = 0
    for k in range(K_COST1, K_COST3 + 1):
        i = idx[k]
        if i >= 0 and c.kvs[i].vtype == VT_INT:
            sp.has_cost = 1; sp.cost = <double>c.kvs[i].ival
            break
        if i >= 0 and c.kvs[i].vtype == VT_DOUBLE:
            sp.has_cost = 1; sp.cost = c.kvs[i].dval
            break
    if model_cut and not sp.has_cost:
        # the price table is looked up with the whole model name, the row has it
        # cut: leave to Python
        sp.fallback = 1
        return 0

    # drop_used, then the declared slices among what is left (the last value wins)
    if grow(<void**>&c.drop, &c.capdrop, n + 1, 1) < 0:
        return fail(c, E_NOMEM, 0)
    for i in range(n):
        c.drop[i] = 1 if (kid[i] >= 0 and (used >> kid[i]) & 1) else 0
    sp.any_slice = 0
    if c.nslice:
        sl = c.slice_idx + (sp - c.spans) * c.nslice
        for k in range(c.nslice):
            sl[k] = -1
            for i in range(n):
                if (not c.drop[i] and kvs[i].key_len == c.slice_len[k]
                        and memcmp(c.b + kvs[i].key_off, c.slice_ptr[k], kvs[i].key_len) == 0):
                    sl[k] = <int>(sp.kv_first + i)
            if sl[k] >= 0:
                if c.kvs[sl[k]].vtype >= VT_ARRAY:
                    sp.fallback = 1   # list, dict or bytes slice value
                    return 0
                sp.any_slice = 1

    # ids as hex, then the attributes JSON
    if ensure(c, 32 + 16 + 2 * sp.par_len) < 0:
        return -1
    sp.hex_off = c.nout
    c.nout += fs_hex(c.out + c.nout, c.b + sp.trace_off, 16)
    c.nout += fs_hex(c.out + c.nout, c.b + sp.sid_off, 8)
    nz = 0
    for i in range(sp.par_len):
        nz |= c.b[sp.par_off + i]
    sp.par_hex = 0
    if sp.par_len and nz:
        c.nout += fs_hex(c.out + c.nout, c.b + sp.par_off, sp.par_len)
        sp.par_hex = 1
    sp.attrs_off = c.nout
    c.bad_double = 0
    if emit_dict(c, kvs, n, c.drop, M_JSON) < 0:
        return -1
    if c.bad_double:
        c.nout = sp.hex_off   # drop this span's text
        sp.fallback = 1
        return 0
    sp.attrs_len = c.nout - sp.attrs_off

    # the redaction pre-scan's text: normalize._needs_redaction's strings, joined
    if c.scan:
        sp.scan_off = c.nout
        c.scan_items = 0
        if sp.in_len > 0 and scan_item(c, c.b + sp.in_off, sp.in_len) < 0:
            return -1
        if sp.out_len > 0 and scan_item(c, c.b + sp.out_off, sp.out_len) < 0:
            return -1
        if sp.name_len > 0 and scan_item(c, c.b + sp.name_off, sp.name_len) < 0:
            return -1
        if sp.smsg_len > 0 and scan_item(c, c.b + sp.smsg_off, sp.smsg_len) < 0:
            return -1
        if emit_dict(c, kvs, n, c.drop, M_SCAN) < 0:
            return -1
        sp.scan_len = c.nout - sp.scan_off
    return 0

cdef int run_nogil(Ctx* c) noexcept nogil:
    cdef Py_ssize_t i
    cdef ResRec* r
    if parse_request(c) < 0:
        return -1
    if c.nslice:
        if c.nspan > (<Py_ssize_t>0x3FFFFFFFFFFFFFFF) // c.nslice:
            return fail(c, E_NOMEM, 0)
        if grow(<void**>&c.slice_idx, &c.capslice, c.nspan * c.nslice + 1, sizeof(int)) < 0:
            return fail(c, E_NOMEM, 0)
    for i in range(c.nres):
        r = &c.res[i]
        r.json_off = c.nout
        c.nonfinite = 0
        c.bad_double = 0
        if emit_dict(c, c.kvs + r.kv_first, r.kv_count, NULL, M_JSON) < 0:
            return -1
        if c.nonfinite or c.bad_double:
            # NaN/Infinity become null in JSON, and the caller reads the resource
            # back from it: the Python path keeps the values
            return fail(c, E_UNSUPPORTED, 0)
        r.json_len = c.nout - r.json_off
    for i in range(c.nspan):
        if process_span(c, &c.spans[i]) < 0:
            return -1
    return 0

# ---------------------------------------------------------------- Python side

KINDS = ("span", "llm", "chain", "retrieval", "tool", "agent", "embedding", "reranker",
         "guardrail", "evaluator")
STATUS = ("unset", "ok", "error")

cdef inline object ustr(Ctx* c, Py_ssize_t off, Py_ssize_t ln):
    # body text, checked as UTF-8 when read; ln < 0 is None
    if ln < 0:
        return None
    return PyUnicode_DecodeUTF8(<const char*>(c.b + off), ln, NULL)

cdef inline object ostr(Ctx* c, Py_ssize_t off, Py_ssize_t ln):
    # generated text
    return PyUnicode_DecodeUTF8(c.out + off, ln, NULL)

cdef object slice_value(Ctx* c, KV* kv):
    if kv.vtype == VT_STR:
        return ustr(c, kv.v_off, kv.v_len)
    if kv.vtype == VT_INT:
        return kv.ival
    if kv.vtype == VT_BOOL:
        return bool(kv.ival)
    if kv.vtype == VT_DOUBLE:
        return kv.dval
    return None


def decode(bytes body not None, slice_keys, bint scan):
    """Decode an OTLP ``ExportTraceServiceRequest`` body into span tuples.

    Returns None when the Python path must take the whole request, else
    ``(resource_jsons, spans)``: see ``_wire.pyi``. Raises ValueError for a
    malformed body (MemoryError when out of memory).
    """
    cdef Ctx c
    cdef int rc
    cdef Py_ssize_t i, k
    cdef int j
    cdef SpanRec* sp
    memset(&c, 0, sizeof(Ctx))
    c.b = <const uint8_t*>PyBytes_AS_STRING(body)
    c.n = PyBytes_GET_SIZE(body)
    c.scan = scan
    names = []
    encoded = []
    for key in slice_keys:
        try:
            encoded.append(key.encode("utf-8"))
        except UnicodeEncodeError:
            continue   # a lone surrogate: no attribute key (valid UTF-8) can match it
        names.append(key)
    c.nslice = len(encoded)
    try:
        if c.nslice:
            c.slice_ptr = <const char**>malloc(c.nslice * sizeof(char*))
            c.slice_len = <Py_ssize_t*>malloc(c.nslice * sizeof(Py_ssize_t))
            if c.slice_ptr == NULL or c.slice_len == NULL:
                raise MemoryError()
            for i in range(c.nslice):
                c.slice_ptr[i] = PyBytes_AS_STRING(encoded[i])
                c.slice_len[i] = PyBytes_GET_SIZE(encoded[i])
        with nogil:
            rc = run_nogil(&c)
        if rc < 0:
            if c.err == E_UNSUPPORTED:
                return None
            if c.err == E_NOMEM:
                raise MemoryError()
            what = "invalid UTF-8 in a string field" if c.err == E_UTF8 else "malformed protobuf"
            raise ValueError(f"{what} at byte {c.err_pos}")
        resources = [ostr(&c, c.res[i].json_off, c.res[i].json_len) for i in range(c.nres)]
        spans = []
        for i in range(c.nspan):
            sp = &c.spans[i]
            if sp.fallback:
                spans.append((1, sp.res_idx, sp.body_off, sp.body_off + sp.body_len))
                continue
            slices = None
            if sp.any_slice:
                slices = {}
                for k in range(c.nslice):
                    j = c.slice_idx[i * c.nslice + k]
                    if j >= 0:
                        slices[names[k]] = slice_value(&c, &c.kvs[j])
            spans.append((
                0,
                ostr(&c, sp.hex_off, 32),
                ostr(&c, sp.hex_off + 32, 16),
                ostr(&c, sp.hex_off + 48, 2 * sp.par_len) if sp.par_hex else None,
                ustr(&c, sp.name_off, sp.name_cut),
                KINDS[sp.kind],
                ustr(&c, sp.model_off, sp.model_len),
                ustr(&c, sp.prov_off, sp.prov_len),
                ustr(&c, sp.in_off, sp.in_len),
                ustr(&c, sp.out_off, sp.out_len),
                sp.ptok if sp.ptok >= 0 else None,
                sp.ctok if sp.ctok >= 0 else None,
                sp.cost if sp.has_cost else None,
                sp.start,
                sp.end,
                STATUS[sp.scode] if 0 <= sp.scode <= 2 else "unset",
                ustr(&c, sp.smsg_off, sp.smsg_len) if sp.smsg_len else None,
                ustr(&c, sp.sess_off, sp.sess_len),
                ustr(&c, sp.user_off, sp.user_len),
                ostr(&c, sp.attrs_off, sp.attrs_len),
                sp.res_idx,
                slices,
                PyBytes_FromStringAndSize(c.out + sp.scan_off, sp.scan_len) if scan else None,
                sp.body_off,
                sp.body_off + sp.body_len,
            ))
        return resources, spans
    finally:
        free(c.kvs)
        free(c.spans)
        free(c.res)
        free(c.out)
        free(c.drop)
        free(c.slice_idx)
        free(c.slice_ptr)
        free(c.slice_len)


def format_double(double value):
    """A double as this module writes it in JSON (orjson's format); a test hook."""
    cdef char buf[40]
    cdef Py_ssize_t n = fs_double(buf, value)
    if n == 0:
        raise ValueError(f"cannot format {value!r}")
    return buf[:n].decode("ascii")
