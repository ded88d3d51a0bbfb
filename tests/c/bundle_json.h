/* tests/c/bundle_json.h - a small strict JSON reader in plain C, enough for a
 * ringfence bundle (docs/bundle.md): objects, arrays, strings, true/false/null,
 * and numbers, of which only non-negative integers below 2^64 are usable
 * (bj_value.integer_ok). Written for the tests' bundle loader, to show what a
 * runtime in C needs; it refuses what is not JSON rather than guessing.
 *
 *   bj_value doc;
 *   char why[160];
 *   if (bj_parse(text, length, &doc, why, sizeof why) != 0) { puts(why); return 1; }
 *   const bj_value *v = bj_get(&doc, "version");
 *   bj_free(&doc);
 */
#ifndef RINGFENCE_TESTS_BUNDLE_JSON_H
#define RINGFENCE_TESTS_BUNDLE_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum bj_kind { BJ_NULL, BJ_BOOL, BJ_NUMBER, BJ_STRING, BJ_ARRAY, BJ_OBJECT } bj_kind;

typedef struct bj_value {
    bj_kind kind;
    int boolean;
    int integer_ok;        /* a number that is a non-negative integer literal below 2^64 */
    uint64_t integer;
    char *string;          /* BJ_STRING: NUL-terminated UTF-8 (a NUL inside is refused) */
    size_t count;          /* BJ_ARRAY, BJ_OBJECT */
    struct bj_value *items;
    char **keys;           /* BJ_OBJECT: keys[i] names items[i] */
} bj_value;

typedef struct bj_reader {
    const char *at, *end, *begin;
    char *why;
    size_t why_size;
    int depth;
} bj_reader;

static inline int bj_fail(bj_reader *r, const char *what) {
    if (r->why && r->why_size) snprintf(r->why, r->why_size, "byte %ld: %s", (long)(r->at - r->begin), what);
    return -1;
}

static inline void bj_skip_space(bj_reader *r) {
    while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r')) ++r->at;
}

static inline void bj_free(bj_value *v) {
    size_t i;
    if (!v) return;
    for (i = 0; i < v->count; ++i) {
        bj_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

static inline int bj_hex4(bj_reader *r, unsigned *out) {
    unsigned v = 0;
    int i;
    if (r->end - r->at < 4) return bj_fail(r, "a \\u escape needs four hex digits");
    for (i = 0; i < 4; ++i) {
        const char c = *r->at++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return bj_fail(r, "a \\u escape needs four hex digits");
    }
    *out = v;
    return 0;
}

static inline int bj_string(bj_reader *r, char **out) {
    /* The decoded text is never longer than the literal. */
    const char *start = ++r->at;
    char *s, *w;
    while (r->at < r->end && *r->at != '"') r->at += (*r->at == '\\' && r->at + 1 < r->end) ? 2 : 1;
    if (r->at >= r->end) return bj_fail(r, "a string is not closed");
    s = w = (char *)malloc((size_t)(r->at - start) + 1);
    if (!s) return bj_fail(r, "out of memory");
    r->at = start;
    while (*r->at != '"') {
        unsigned char c = (unsigned char)*r->at++;
        if (c < 0x20) { free(s); return bj_fail(r, "a control byte in a string"); }
        if (c != '\\') { *w++ = (char)c; continue; }
        c = (unsigned char)*r->at++;
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned u;
            if (bj_hex4(r, &u) != 0) { free(s); return -1; }
            if (u == 0 || (u >= 0xd800 && u <= 0xdfff)) { free(s); return bj_fail(r, "\\u0000 or a surrogate in a string"); }
            if (u < 0x80) *w++ = (char)u;
            else if (u < 0x800) { *w++ = (char)(0xc0 | (u >> 6)); *w++ = (char)(0x80 | (u & 0x3f)); }
            else { *w++ = (char)(0xe0 | (u >> 12)); *w++ = (char)(0x80 | ((u >> 6) & 0x3f)); *w++ = (char)(0x80 | (u & 0x3f)); }
            break; /* \uXXXX is at most 3 bytes of UTF-8 for 6 of text */
        }
        default: free(s); return bj_fail(r, "an unknown escape in a string");
        }
    }
    ++r->at;
    *w = '\0';
    *out = s;
    return 0;
}

static inline int bj_value_at(bj_reader *r, bj_value *v);

static inline int bj_push(bj_reader *r, bj_value *v, size_t *capacity, char *key) {
    if (v->count == *capacity) {
        size_t n = *capacity ? *capacity * 2 : 8;
        bj_value *items = (bj_value *)realloc(v->items, n * sizeof *items);
        if (!items) { free(key); return bj_fail(r, "out of memory"); }
        v->items = items;
        if (v->kind == BJ_OBJECT) {
            char **keys = (char **)realloc(v->keys, n * sizeof *keys);
            if (!keys) { free(key); return bj_fail(r, "out of memory"); }
            v->keys = keys;
        }
        *capacity = n;
    }
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    if (v->kind == BJ_OBJECT) v->keys[v->count] = key;
    ++v->count;
    return bj_value_at(r, &v->items[v->count - 1]);
}

static inline int bj_value_at(bj_reader *r, bj_value *v) {
    bj_skip_space(r);
    if (r->at >= r->end) return bj_fail(r, "a value was expected");
    if (*r->at == '{' || *r->at == '[') {
        const char close = *r->at == '{' ? '}' : ']';
        size_t capacity = 0;
        v->kind = *r->at == '{' ? BJ_OBJECT : BJ_ARRAY;
        if (++r->depth > 32) return bj_fail(r, "nested deeper than 32");
        ++r->at;
        bj_skip_space(r);
        if (r->at < r->end && *r->at == close) { ++r->at; --r->depth; return 0; }
        for (;;) {
            char *key = NULL;
            if (v->kind == BJ_OBJECT) {
                size_t i;
                bj_skip_space(r);
                if (r->at >= r->end || *r->at != '"') return bj_fail(r, "a member name was expected");
                if (bj_string(r, &key) != 0) return -1;
                for (i = 0; i < v->count; ++i)
                    if (strcmp(v->keys[i], key) == 0) { free(key); return bj_fail(r, "a duplicate member name"); }
                bj_skip_space(r);
                if (r->at >= r->end || *r->at != ':') { free(key); return bj_fail(r, "':' was expected"); }
                ++r->at;
            }
            if (bj_push(r, v, &capacity, key) != 0) return -1;
            bj_skip_space(r);
            if (r->at < r->end && *r->at == ',') { ++r->at; continue; }
            if (r->at < r->end && *r->at == close) { ++r->at; --r->depth; return 0; }
            return bj_fail(r, "',' or the closing bracket was expected");
        }
    }
    if (*r->at == '"') {
        v->kind = BJ_STRING;
        return bj_string(r, &v->string);
    }
    if (r->end - r->at >= 4 && memcmp(r->at, "true", 4) == 0) { v->kind = BJ_BOOL; v->boolean = 1; r->at += 4; return 0; }
    if (r->end - r->at >= 5 && memcmp(r->at, "false", 5) == 0) { v->kind = BJ_BOOL; r->at += 5; return 0; }
    if (r->end - r->at >= 4 && memcmp(r->at, "null", 4) == 0) { v->kind = BJ_NULL; r->at += 4; return 0; }
    if (*r->at == '-' || (*r->at >= '0' && *r->at <= '9')) {
        const char *start = r->at;
        int plain = *r->at != '-', overflow = 0;
        uint64_t n = 0;
        v->kind = BJ_NUMBER;
        if (*r->at == '-') ++r->at;
        if (r->at >= r->end || *r->at < '0' || *r->at > '9') return bj_fail(r, "a digit was expected");
        if (*r->at == '0' && r->at + 1 < r->end && r->at[1] >= '0' && r->at[1] <= '9')
            return bj_fail(r, "a number has a leading zero");
        while (r->at < r->end && *r->at >= '0' && *r->at <= '9') {
            const unsigned d = (unsigned)(*r->at++ - '0');
            if (n > (UINT64_MAX - d) / 10) overflow = 1;
            n = n * 10 + d;
        }
        if (r->at < r->end && (*r->at == '.' || *r->at == 'e' || *r->at == 'E')) {
            plain = 0;
            if (*r->at == '.') {
                ++r->at;
                if (r->at >= r->end || *r->at < '0' || *r->at > '9') return bj_fail(r, "a digit was expected");
                while (r->at < r->end && *r->at >= '0' && *r->at <= '9') ++r->at;
            }
            if (r->at < r->end && (*r->at == 'e' || *r->at == 'E')) {
                ++r->at;
                if (r->at < r->end && (*r->at == '+' || *r->at == '-')) ++r->at;
                if (r->at >= r->end || *r->at < '0' || *r->at > '9') return bj_fail(r, "a digit was expected");
                while (r->at < r->end && *r->at >= '0' && *r->at <= '9') ++r->at;
            }
        }
        (void)start;
        v->integer_ok = plain && !overflow;
        v->integer = v->integer_ok ? n : 0;
        return 0;
    }
    return bj_fail(r, "no JSON value starts here");
}

/* Parses `length` bytes: 0, or -1 with the reason in `why`. */
static inline int bj_parse(const char *text, size_t length, bj_value *out, char *why, size_t why_size) {
    bj_reader r;
    memset(out, 0, sizeof *out);
    r.at = r.begin = text;
    r.end = text + length;
    r.why = why;
    r.why_size = why_size;
    r.depth = 0;
    if (bj_value_at(&r, out) != 0) { bj_free(out); return -1; }
    bj_skip_space(&r);
    if (r.at != r.end) { bj_free(out); return bj_fail(&r, "text follows the document"); }
    return 0;
}

/* The member `key` of an object, or NULL. */
static inline const bj_value *bj_get(const bj_value *object, const char *key) {
    size_t i;
    if (!object || object->kind != BJ_OBJECT) return NULL;
    for (i = 0; i < object->count; ++i)
        if (strcmp(object->keys[i], key) == 0) return &object->items[i];
    return NULL;
}

#endif /* RINGFENCE_TESTS_BUNDLE_JSON_H */
