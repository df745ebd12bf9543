/* jscan: a validating single-pass scanner for a native request body; pure, no I/O, no
 * allocation. It accepts a body only when jansson's json_loadb(JSON_REJECT_DUPLICATES), as
 * server.c parses bodies, would accept it and return an object, and records where the
 * top-level "model", "keep_alive" and "options" values are, so that the body can be spliced
 * (splice.h) instead of parsed and re-encoded. Whatever it is not sure of it refuses, and the
 * caller takes the jansson path, which also owns every error message.
 *
 * What it checks, as jansson 2.14 does: RFC 8259 grammar, whitespace ' ' \t \n \r only, one
 * value then the end of input; strings without control bytes, in UTF-8 without overlongs,
 * surrogates or code points above U+10FFFF; the escapes \" \\ \/ \b \f \n \r \t \uXXXX with
 * surrogate pairs paired and no \u0000; integers within int64; no duplicate key in any object.
 *
 * Caps (refused as "not handled", never as invalid, so the jansson path decides):
 * nesting deeper than JSCAN_MAX_DEPTH, more than JSCAN_MAX_KEYS keys in the open objects at
 * once, a key holding an escape, a top-level key holding an upper-case ASCII letter or a byte
 * outside ASCII (it may be a variant Go folds onto "model", "keep_alive", ..., which the
 * jansson path refuses: policy_check_keys), a real number with an exponent beyond +-JSCAN_MAX_EXP
 * or that may overflow a double, a string model longer than JSCAN_MAX_MODEL - 1 bytes decoded. */
#ifndef KEEPWARM_JSCAN_H
#define KEEPWARM_JSCAN_H

#include <stddef.h>

#define JSCAN_MAX_DEPTH 64  /* nested arrays and objects (jansson allows 2048) */
#define JSCAN_MAX_KEYS  256 /* keys of all open objects together, for the duplicate check */
#define JSCAN_MAX_MODEL 256 /* decoded model name, NUL included */
#define JSCAN_MAX_EXP   400 /* |exponent| of a real number */

/* A top-level value's text: body[off, off + len). len 0: the key is absent. */
struct jscan_span {
    size_t off, len;
};

struct jscan {
    struct jscan_span model, keep_alive, options;
    size_t close;   /* offset of the top-level object's closing '}' */
    size_t members; /* top-level members */
    int has_model;  /* "model" is a string, decoded (escapes resolved) into model_name */
    char model_name[JSCAN_MAX_MODEL];
    /* When jscan_body returns -1: */
    int invalid;     /* 1: the jansson path rejects the body too (invalid JSON, not an object,
                        duplicate key); 0: merely not handled here */
    const char *why; /* a static reason, for tests and debug logs */
};

/* Scans body[0, len) into out. Returns 0 when the body is an object jansson accepts, or -1
 * (see out->invalid and out->why). */
int jscan_body(const char *body, size_t len, struct jscan *out);

#endif
