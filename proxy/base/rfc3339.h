/* rfc3339: the timestamps Ollama writes (Go's time.Time in JSON: RFC 3339 with optional
 * nanoseconds, "Z" or a ±hh:mm offset) read as unix seconds. Pure: no clock, no locale, no
 * allocation; the reader of `created_at`, `modified_at` and `/api/ps`'s `expires_at`. */
#ifndef KEEPWARM_RFC3339_H
#define KEEPWARM_RFC3339_H

/* "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)", 'T' and 'Z' in either case, the fraction
 * truncated, calendar checked (month lengths, leap years) -> *secs (seconds, negative before
 * 1970: Go's zero time 0001-01-01T00:00:00Z is -62135596800). Returns 0, or -1 (and leaves
 * *secs alone) for NULL or anything else, trailing bytes included. */
int rfc3339_parse(const char *s, long long *secs);

#endif
