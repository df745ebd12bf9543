/* libFuzzer target: statuspage_wants_html, the Accept negotiation between the status page and
 * the /status JSON. Input: an Accept header value (cut at its first NUL). */
#include <ctype.h>

#include "fuzz.h"
#include "statuspage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    enum { CAP = 4096 };
    static char s[CAP + 1], t[CAP + 64];
    if (size > CAP)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int html = statuspage_wants_html(s);
    FUZZ_CHECK("accept-bool", html == 0 || html == 1, "%d", html);
    /* Types, subtypes and the q parameter are case-insensitive; ranges may have white space
     * around them. */
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++)
        t[i] = (char)toupper((unsigned char)s[i]);
    FUZZ_CHECK("accept-case", statuspage_wants_html(t) == html, "%s", s);
    snprintf(t, sizeof(t), " \t%s", s);
    FUZZ_CHECK("accept-ows", statuspage_wants_html(t) == html, "%s", s);
    /* An exact application/json at q=1 can only take the page away; an exact text/html;q=0
     * too; a range that matches neither type changes nothing. */
    snprintf(t, sizeof(t), "%s,application/json", s);
    FUZZ_CHECK("accept-json-wins", !statuspage_wants_html(t) || html, "%s", s);
    snprintf(t, sizeof(t), "%s,text/html;q=0", s);
    FUZZ_CHECK("accept-html-zero", !statuspage_wants_html(t) || html, "%s", s);
    snprintf(t, sizeof(t), "%s,image/png", s);
    FUZZ_CHECK("accept-unrelated", statuspage_wants_html(t) == html, "%s", s);
    return 0;
}
