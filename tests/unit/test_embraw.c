/* embraw: Ollama's embedding numbers spliced into the /v1 answer byte for byte, and every shape
 * it does not know refused with nothing written (the jansson path answers then). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "embraw.h"

#define ANSWER2                                                                                    \
    "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"embedding\":[],\"index\":0},"      \
    "{\"object\":\"embedding\",\"embedding\":[],\"index\":1}],\"model\":\"m\",\"usage\":{}}"

static void spliced(const char *native, const char *answer, const char *want) {
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, "<", 1);
    int rc = embraw_splice(native, strlen(native), answer, strlen(answer), out);
    size_t n = evbuffer_get_length(out);
    char *got = calloc(1, n + 1);
    evbuffer_remove(out, got, n);
    if (want) {
        if (rc != 0 || strcmp(got + 1, want) != 0)
            fail_msg("%s: rc %d, got %s", native, rc, got);
    } else if (rc != -1 || strcmp(got, "<") != 0) {
        fail_msg("%s: rc %d, wrote %s", native, rc, got);
    }
    free(got);
    evbuffer_free(out);
}

static void test_splice(void **state) {
    (void)state;
    const char *want =
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"embedding\":"
        "[0.348155,-1e-7,1e+21,0,-0,16777216],\"index\":0},{\"object\":\"embedding\","
        "\"embedding\":[],\"index\":1}],\"model\":\"m\",\"usage\":{}}";
    spliced("{\"model\":\"m\",\"embeddings\":[[0.348155,-1e-7,1e+21,0,-0,16777216],[]],"
            "\"prompt_eval_count\":2}",
            ANSWER2, want);
    /* blanks anywhere in Ollama's answer are dropped; keys before and after skipped, strings
     * holding brackets and "embeddings" too */
    spliced(" { \"x\" : { \"a\" : [ \"]\\\"[\" , {} ] } , \"embeddings\" : [ [ 0.348155 , -1e-7 , "
            "1e+21 ,\n0 ,\t-0 , 16777216 ] , [ ] ] , \"s\" : \"\\\"embeddings\\\":[[9]]\" } ",
            ANSWER2, want);
    /* no vectors: nothing to splice */
    spliced("{\"embeddings\":[]}", "{\"data\":[]}", "{\"data\":[]}");
    /* a model name that looks like a hole is escaped in the dump: not one */
    spliced("{\"embeddings\":[[1.5]]}",
            "{\"data\":[{\"embedding\":[]}],\"model\":\"\\\"embedding\\\":[]\"}",
            "{\"data\":[{\"embedding\":[1.5]}],\"model\":\"\\\"embedding\\\":[]\"}");
}

static void test_refused(void **state) {
    (void)state;
    const char *one = "{\"data\":[{\"embedding\":[]}]}";
    spliced("{\"embeddings\":[[1],[2]]}", one, NULL);                  /* more vectors than holes */
    spliced("{\"embeddings\":[[1]]}", ANSWER2, NULL);                  /* fewer */
    spliced("{\"embeddings\":null}", one, NULL);                       /* not an array */
    spliced("{\"embeddings\":[[1,null]]}", one, NULL);                 /* not a number */
    spliced("{\"embeddings\":[[\"1\"]]}", one, NULL);                  /* a string */
    spliced("{\"embeddings\":[{\"a\":1}]}", one, NULL);                /* not a vector */
    spliced("{\"embeddings\":[[1]],\"embeddings\":[[2]]}", one, NULL); /* twice: which one? */
    spliced("{\"embeddings\":[[1]],\"embeddin\\u0067s\":[[2]]}", one, NULL); /* the same key */
    spliced("{\"model\":\"m\"}", one, NULL);                                 /* none */
    spliced("[[1]]", one, NULL);                                             /* not an object */
    spliced("{\"embeddings\":[[1]", one, NULL);                              /* cut */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
