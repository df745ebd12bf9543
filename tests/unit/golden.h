/* golden.h: what the data-driven translation runners (test_openai.c over tests/translate/,
 * test_responses.c over tests/translate-responses/, test_anthropic.c over
 * tests/translate-anthropic/) share: JSON from text and from a case directory's files, the
 * value comparator and the walk that makes one cmocka test of each case directory.
 *
 * The comparator: numbers by value (3 == 3.0; two integers exactly), strings bytewise, objects
 * by key set, arrays in order, true/false/null by type. A runner's placeholders ("$CALL_ID",
 * "$NOW", ...) come in as a golden_match_fn, asked first at every node.
 *
 * Header only (static functions, each runner is one .c file); include after <cmocka.h>. */
#ifndef KEEPWARM_TEST_GOLDEN_H
#define KEEPWARM_TEST_GOLDEN_H

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A runner's placeholders: -1 when want is none of them, else 1 (got matches) or 0 (it does
 * not; the reason, naming path, written into why). */
typedef int (*golden_match_fn)(const json_t *want, const json_t *got, const char *path, char *why,
                               size_t len);

/* JSON text the test wrote itself (any value, duplicate keys refused); fails the test if bad. */
static inline json_t *golden_parse(const char *text) {
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!v)
        fail_msg("bad test JSON (%s): %s", e.text, text);
    return v;
}

/* Compact text with sorted keys for a failure message; the caller frees it. */
static inline char *golden_dump(const json_t *v) {
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
    return s ? s : strdup("(null)");
}

/* dir/name in a new string; the caller frees it. */
static inline char *golden_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static inline int golden_exists(const char *dir, const char *name) {
    struct stat st;
    char *p = golden_path(dir, name);
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

/* The JSON file dir/name (any value, duplicate keys refused); fails the test if bad. */
static inline json_t *golden_load(const char *dir, const char *name) {
    json_error_t e;
    char *p = golden_path(dir, name);
    json_t *v = json_load_file(p, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!v)
        fail_msg("%s: %s (line %d)", p, e.text, e.line);
    free(p);
    return v;
}

/* 1 if got equals want (placeholders by match, which may be NULL), else 0 with the first
 * difference's path and reason in why. */
static inline int golden_values_equal(const json_t *want, const json_t *got, golden_match_fn match,
                                      const char *path, char *why, size_t len) {
    char sub[512];
    const char *key;
    json_t *w;
    size_t i;
    int m = match ? match(want, got, path, why, len) : -1;

    if (m >= 0)
        return m;
    if (json_is_number(want) && json_is_number(got)) {
        if (json_is_integer(want) && json_is_integer(got)
                ? json_integer_value(want) == json_integer_value(got)
                : json_number_value(want) == json_number_value(got))
            return 1;
        snprintf(why, len, "%s: want %.17g, got %.17g", path, json_number_value(want),
                 json_number_value(got));
        return 0;
    }
    if (!got || json_typeof(want) != json_typeof(got)) {
        snprintf(why, len, "%s: type differs", path);
        return 0;
    }
    switch (json_typeof(want)) {
        case JSON_STRING:
            if (json_string_length(want) == json_string_length(got) &&
                !memcmp(json_string_value(want), json_string_value(got), json_string_length(got)))
                return 1;
            snprintf(why, len, "%s: want \"%s\", got \"%s\"", path, json_string_value(want),
                     json_string_value(got));
            return 0;
        case JSON_ARRAY:
            if (json_array_size(want) != json_array_size(got)) {
                snprintf(why, len, "%s: want %zu items, got %zu", path, json_array_size(want),
                         json_array_size(got));
                return 0;
            }
            json_array_foreach(want, i, w) {
                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                if (!golden_values_equal(w, json_array_get(got, i), match, sub, why, len))
                    return 0;
            }
            return 1;
        case JSON_OBJECT:
            json_object_foreach((json_t *)want, key, w) {
                snprintf(sub, sizeof(sub), "%s.%s", path, key);
                if (!json_object_get(got, key)) {
                    snprintf(why, len, "%s: missing", sub);
                    return 0;
                }
                if (!golden_values_equal(w, json_object_get(got, key), match, sub, why, len))
                    return 0;
            }
            json_object_foreach((json_t *)got, key, w) {
                if (!json_object_get(want, key)) {
                    snprintf(why, len, "%s.%s: unexpected key", path, key);
                    return 0;
                }
            }
            return 1;
        default:
            return 1; /* true, false, null: same type is enough */
    }
}

/* Fails the test, printing the difference and both values, unless got equals want. */
static inline void golden_assert_eq(const json_t *want, const json_t *got, golden_match_fn match) {
    char why[1024];
    if (!golden_values_equal(want, got, match, "$", why, sizeof(why))) {
        char *w = golden_dump(want), *g = golden_dump(got);
        print_error("%s\n  want: %s\n  got:  %s\n", why, w, g);
        free(w);
        free(g);
        fail();
    }
}

static inline int golden_is_case_name(const struct dirent *d) {
    return d->d_name[0] != '.';
}

/* One cmocka test per directory under $env (else default_root), in name order, named after
 * it, run_case getting the directory's path as its state; files beside them (README.md) are
 * not cases. Returns the number of failed tests, or 1 when the root cannot be read or holds
 * no case. */
static inline int golden_run(const char *group, const char *env, const char *default_root,
                             CMUnitTestFunction run_case) {
    const char *root = getenv(env);
    struct dirent **names = NULL;
    struct CMUnitTest *tests;
    int n, count = 0, failed;

    if (!root || !*root)
        root = default_root;
    n = scandir(root, &names, golden_is_case_name, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: cannot read %s (set %s)\n", group, root, env);
        return 1;
    }
    tests = calloc((size_t)n + 1, sizeof(*tests));
    if (!tests) {
        fprintf(stderr, "%s: out of memory\n", group);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char *dir = golden_path(root, names[i]->d_name);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
            tests[count].name = strdup(names[i]->d_name);
            tests[count].test_func = run_case;
            tests[count].initial_state = dir;
            count++;
        } else {
            free(dir);
        }
        free(names[i]);
    }
    free(names);
    if (count == 0) {
        fprintf(stderr, "%s: no cases under %s (set %s)\n", group, root, env);
        free(tests);
        return 1;
    }
    failed = _cmocka_run_group_tests(group, tests, (size_t)count, NULL, NULL);
    for (int i = 0; i < count; i++) {
        free((char *)tests[i].name);
        free(tests[i].initial_state);
    }
    free(tests);
    return failed;
}

#endif
