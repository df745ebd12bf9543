/* openai_fields: the table (openai_fields.h) and its lookup. */
#include "openai_fields.h"

#include <string.h>

const struct openai_field_row openai_fields[OF_COUNT] = {
#define OPENAI_FIELD_ROW(id, name, used, fast) [OF_##id] = {name, sizeof(name) - 1, used, fast},
    OPENAI_FIELDS(OPENAI_FIELD_ROW)
#undef OPENAI_FIELD_ROW
};

const char *const openai_field_names[OF_COUNT + 1] = {
#define OPENAI_FIELD_NAME(id, name, used, fast) [OF_##id] = name,
    OPENAI_FIELDS(OPENAI_FIELD_NAME)
#undef OPENAI_FIELD_NAME
        [OF_COUNT] = NULL,
};

int openai_field_find(const char *key, size_t n) {
    for (int i = 0; i < OF_COUNT; i++)
        if (openai_fields[i].len == n && memcmp(openai_fields[i].name, key, n) == 0)
            return i;
    return -1;
}
