/* runopts: a request's runner options as canonical texts (runopts.h). */
#include "runopts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const runopts_names[RUNOPTS_N] = {"num_ctx",  "num_batch",  "num_gpu",
                                              "main_gpu", "num_thread", "use_mmap"};

int runopts_index(const char *key, size_t klen) {
    for (int i = 0; i < RUNOPTS_N; i++)
        if (strlen(runopts_names[i]) == klen && memcmp(runopts_names[i], key, klen) == 0)
            return i;
    return -1;
}

static void put_number(struct runopts *ro, int i, double v) {
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
        snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "%lld", (long long)v);
    else
        snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "%.17g", v);
}

void runopts_set_text(struct runopts *ro, int i, const char *value, size_t len) {
    char buf[64];
    if (i < 0 || i >= RUNOPTS_N)
        return;
    ro->set |= 1u << i;
    if ((len == 4 && memcmp(value, "true", 4) == 0) ||
        (len == 5 && memcmp(value, "false", 5) == 0)) {
        snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "%.*s", (int)len, value);
        return;
    }
    if (len > 0 && len < sizeof(buf) && (value[0] == '-' || (value[0] >= '0' && value[0] <= '9'))) {
        memcpy(buf, value, len);
        buf[len] = '\0';
        char *end;
        double v = strtod(buf, &end);
        if (*end == '\0') {
            put_number(ro, i, v);
            return;
        }
    }
    snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "other");
}

void runopts_from_json(struct runopts *ro, const json_t *options) {
    const char *key;
    const json_t *v;
    if (!json_is_object(options))
        return;
    json_object_foreach((json_t *)options, key, v) {
        int i = runopts_index(key, strlen(key));
        if (i < 0)
            continue;
        ro->set |= 1u << i;
        if (json_is_number(v))
            put_number(ro, i, json_number_value(v));
        else if (json_is_boolean(v))
            snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "%s", json_is_true(v) ? "true" : "false");
        else
            snprintf(ro->value[i], RUNOPTS_VALUE_MAX, "other");
    }
}

const char *runopts_value(const struct runopts *ro, int i) {
    return ro->set & (1u << i) ? ro->value[i] : "default";
}
