/* modelname: a model name as Ollama resolves it, so that every spelling of one model gets its
 * [model] settings, pins and max_concurrent counter. Ollama (commit fb30760:
 * server/model_resolver.go parseAndValidateModelRef, internal/modelref/modelref.go ParseRef,
 * types/model/name.go ParseName and IsValid; getExistingName in server/routes.go matches each part
 * with strings.EqualFold) turns a request's "model" into host/namespace/model:tag:
 * - surrounding white space is trimmed (Go's strings.TrimSpace, Unicode spaces included);
 * - a ":local" suffix (any case) is dropped: the same local model; ":cloud", and a tag ending
 *   in "-cloud", name the cloud model of the rest (marked ":cloud" in the output, so it never
 *   equals a local name); two such suffixes are an error;
 * - a tag follows the last ':' when that comes after the last '/'; then model, namespace and
 *   host are cut from the right at '/'; a host may carry a scheme ("https://host"), which is
 *   dropped; empty parts take the defaults registry.ollama.ai, library, latest (an empty part
 *   promised by a separator is an error instead);
 * - each part must be valid: 1 to 80 bytes (host 350) of [A-Za-z0-9_.-], starting with a
 *   letter, digit or '_'; '.' not in the namespace; ':' only in the host. Anything else
 *   (a digest "m@sha256:...", which ParseNameBare documents but no longer parses, bytes
 *   outside ASCII, control bytes) is no name Ollama serves;
 * - parts compare case-insensitively: the output is lower case.
 * Examples: "llama3.2:1b", "library/llama3.2:1b", "LLAMA3.2:1B:local" and
 * "https://registry.ollama.ai/library/llama3.2:1b" all give
 * "registry.ollama.ai/library/llama3.2:1b"; "llama3.2" gives "...llama3.2:latest".
 * Pure: no I/O, no allocation. */
#ifndef KEEPWARM_MODELNAME_H
#define KEEPWARM_MODELNAME_H

#include <stddef.h>

/* Longest output with its NUL: host 350, namespace, model and tag 80 each, three separators,
 * ":cloud". */
#define MODELNAME_MAX (350 + 3 * 80 + 3 + 6 + 1)

/* The canonical form of in (NUL-terminated) into out (outlen bytes). Returns 0, or -1 when in
 * is no name Ollama would resolve (or out is too small); out is then "". */
int modelname_normalize(const char *in, char *out, size_t outlen);

/* 1 when a and b name the same model for Ollama: their canonical forms are equal, or, when
 * either has none, the strings are (or differ by a ":latest" suffix only). */
int modelname_equal(const char *a, const char *b);

#endif
