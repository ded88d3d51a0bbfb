/* tests/c/capi_host.c - the C API (include/ringfence/ringfence.h) from C, on
 * the build host: names, parse errors with line and column, compiling, the
 * kernel checks against each measured line, the bundle (read back with the
 * plain-C reader the bundle loader uses and compared instruction by
 * instruction with ringfence_compile), and argument errors. Compiled as C11
 * with -Wall -Wextra -Werror. Needs no io_uring kernel: the install itself is
 * tested in the guest (capi_guest.c). */
#define _GNU_SOURCE
#include <ringfence/ringfence.h>

#include "bundle_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static ringfence_policy *parse(const char *text, ringfence_error *err) {
    return ringfence_policy_parse(text, strlen(text), err);
}

static void names(void) {
    CHECK(strcmp(ringfence_version(), "") != 0);
    CHECK(ringfence_opcode_count() == 65);
    CHECK(ringfence_opcode_from_name("SOCKET") == 45);
    CHECK(ringfence_opcode_from_name("IORING_OP_OPENAT") == 18);
    CHECK(ringfence_opcode_from_name("16") == 16);
    CHECK(ringfence_opcode_from_name("BOGUS") == -1);
    CHECK(ringfence_opcode_from_name("65") == -1);
    CHECK(ringfence_opcode_from_name(NULL) == -1);
    CHECK(strcmp(ringfence_opcode_name(45), "SOCKET") == 0);
    CHECK(ringfence_opcode_name(65) == NULL);
}

/* One malformed text: NULL, RINGFENCE_ERR_PARSE at line:column, a message naming `word`. */
static void parse_error(const char *text, unsigned long line, unsigned long column, const char *word) {
    ringfence_error err;
    ringfence_policy *p = parse(text, &err);
    CHECK(p == NULL);
    CHECK(err.status == RINGFENCE_ERR_PARSE);
    CHECK(err.line == line);
    CHECK(err.column == column);
    CHECK(strstr(err.message, word) != NULL);
    if (err.line != line || err.column != column || !strstr(err.message, word))
        printf("  for %s: got %lu:%lu: %s\n", text, err.line, err.column, err.message);
    ringfence_policy_free(p);
}

static void parse_errors(void) {
    parse_error("default deny\nallow SOCKET if socket.famly == 2\n", 2, 17, "socket.famly");
    parse_error("allow SOCKET\ndeny NOSUCHOP\n", 2, 6, "NOSUCHOP");
    parse_error("default maybe\n", 1, 9, "maybe");
    parse_error("allow CONNECT if connect.v4_addr == 10.0.0.300\n", 1, 37, "10.0.0.300");
}

static const char server[] = "# TCP over IP; no file creation\n"
                             "default allow\n"
                             "allow SOCKET if socket.family in {AF_INET, AF_INET6} and socket.type & SOCK_TYPE_MASK == SOCK_STREAM\n"
                             "deny SOCKET as \"other sockets\"\n"
                             "deny OPENAT, OPENAT2 if open.flags any O_CREAT as \"no creation\"\n";

static void compile_and_bundle(void) {
    ringfence_error err;
    ringfence_policy *p = parse(server, &err);
    ringfence_program *prog;
    bj_value doc;
    const bj_value *filters;
    char why[160];
    char *bundle;
    size_t i, j;
    CHECK(p != NULL && err.status == RINGFENCE_OK);
    if (!p) return;
    CHECK(ringfence_policy_rule_count(p) == 4); /* OPENAT, OPENAT2: two rules */
    CHECK(ringfence_policy_default_allows(p) == 1);
    CHECK(ringfence_policy_has_rules_for(p, 45));
    CHECK(ringfence_policy_has_rules_for(p, 28));
    CHECK(!ringfence_policy_has_rules_for(p, 16));

    prog = ringfence_compile(p, 45, &err);
    CHECK(prog != NULL && err.status == RINGFENCE_OK);
    if (prog) {
        const ringfence_insn *in = ringfence_program_instructions(prog);
        const size_t n = ringfence_program_length(prog);
        CHECK(n > 2 && n <= 4096);
        CHECK(in[0].code == 0x20 && in[0].k == 16);         /* ld [16]: socket.family */
        CHECK((in[n - 1].code & 0x07) == 0x06);             /* it ends in a return */
    }
    ringfence_program_free(prog);
    /* An opcode without rules gets the default alone: allow. */
    prog = ringfence_compile(p, 0, &err);
    CHECK(prog != NULL && ringfence_program_length(prog) == 1);
    CHECK(prog && ringfence_program_instructions(prog)[0].code == 0x06 && ringfence_program_instructions(prog)[0].k != 0);
    ringfence_program_free(prog);

    bundle = ringfence_bundle(p, "server.policy", &err);
    CHECK(bundle != NULL && err.status == RINGFENCE_OK);
    if (!bundle) { ringfence_policy_free(p); return; }
    CHECK(bj_parse(bundle, strlen(bundle), &doc, why, sizeof why) == 0);
    CHECK(strcmp(bj_get(&doc, "format")->string, "ringfence-bundle") == 0);
    CHECK(bj_get(&doc, "version")->integer == 1);
    CHECK(strcmp(bj_get(&doc, "source")->string, "server.policy") == 0);
    filters = bj_get(&doc, "filters");
    CHECK(filters && filters->count == 3); /* SOCKET, OPENAT, OPENAT2; default allow: no DENY_REST */
    for (i = 0; filters && i < filters->count; ++i) {
        const bj_value *f = &filters->items[i], *insns = bj_get(f, "instructions");
        const unsigned op = (unsigned)bj_get(f, "opcode")->integer;
        ringfence_program *c = ringfence_compile(p, op, &err);
        CHECK(c != NULL);
        CHECK(bj_get(f, "flags")->integer == 0);
        CHECK(strcmp(bj_get(f, "name")->string + strlen("IORING_OP_"), ringfence_opcode_name(op)) == 0);
        CHECK(c && insns->count == ringfence_program_length(c));
        for (j = 0; c && j < insns->count && j < ringfence_program_length(c); ++j) {
            const ringfence_insn *in = &ringfence_program_instructions(c)[j];
            const bj_value *b = &insns->items[j];
            CHECK(b->count == 4 && b->items[0].integer == in->code && b->items[1].integer == in->jt &&
                  b->items[2].integer == in->jf && b->items[3].integer == in->k);
        }
        ringfence_program_free(c);
    }
    bj_free(&doc);
    ringfence_free(bundle);
    ringfence_policy_free(p);
}

/* ringfence_check on a measured line: its status and reason. */
static void check_on(const char *policy_text, const char *line, unsigned flags, int status, int reason) {
    ringfence_error err;
    ringfence_policy *p = parse(policy_text, &err);
    ringfence_kernel *k = ringfence_kernel_line(line, &err);
    int s;
    CHECK(p && k);
    if (!p || !k) { ringfence_policy_free(p); ringfence_kernel_free(k); return; }
    s = ringfence_check(p, k, flags, &err);
    CHECK(s == status);
    CHECK(err.status == status);
    CHECK(err.reason == reason);
    if (s != status || err.reason != reason) printf("  on %s: %d/%d: %s\n", line, s, err.reason, err.message);
    ringfence_kernel_free(k);
    ringfence_policy_free(p);
}

static void kernel_checks(void) {
    static const char connect[] = "allow CONNECT if connect.port == 443\ndeny CONNECT\n";
    static const char nonblock[] = "deny SOCKET if socket.type any SOCK_NONBLOCK\n";
    const unsigned forbid = RINGFENCE_INSTALL_FORBID_IO_URING;
    ringfence_error err;
    ringfence_kernel *k = ringfence_kernel_line("7.2", &err);
    CHECK(k && strcmp(ringfence_kernel_name(k), "7.2.13") == 0);
    CHECK(k && ringfence_kernel_pdu_size(k, 16) == 24 && ringfence_kernel_pdu_size(k, 45) == 12);
    CHECK(k && ringfence_kernel_has_filters(k) && ringfence_kernel_fully_measured(k) &&
          ringfence_kernel_exec_keeps_filters(k));
    CHECK(k && strstr(ringfence_kernel_describe(k), "CONNECT context (connect.* fields): yes") != NULL);
    ringfence_kernel_free(k);
    k = ringfence_kernel_line("7.0", &err);
    CHECK(k && ringfence_kernel_pdu_size(k, 16) == 0 && !ringfence_kernel_exec_keeps_filters(k));
    ringfence_kernel_free(k);
    CHECK(ringfence_kernel_line("7.9", &err) == NULL && err.status == RINGFENCE_ERR_ARGUMENT);
    CHECK(strstr(err.message, "7.9") != NULL);
    {
        /* An install trusts only a measurement: a line's preset is refused before anything happens. */
        ringfence_policy *p = parse(server, &err);
        k = ringfence_kernel_line("7.2", &err);
        CHECK(ringfence_install(p, k, 0, &err) == RINGFENCE_ERR_ARGUMENT && err.installed == 0);
        CHECK(strstr(err.message, "ringfence_probe") != NULL);
        CHECK(ringfence_install_ring(p, 0, k, &err) == RINGFENCE_ERR_ARGUMENT);
        ringfence_kernel_free(k);
        ringfence_policy_free(p);
    }

    /* 7.0.13 sheds task filters at exec: refused unless io_uring is forbidden too. */
    check_on(server, "7.0", 0, RINGFENCE_ERR_KERNEL, RINGFENCE_REASON_EXEC_SHEDS_FILTERS);
    check_on(server, "7.0", forbid, RINGFENCE_OK, RINGFENCE_REASON_NONE);
    check_on(server, "7.1", 0, RINGFENCE_OK, RINGFENCE_REASON_NONE);
    /* connect.port: no CONNECT context on 7.0 and 7.1. */
    check_on(connect, "7.0", forbid, RINGFENCE_ERR_KERNEL, RINGFENCE_REASON_FIELD_NOT_FILLED);
    check_on(connect, "7.1", 0, RINGFENCE_ERR_KERNEL, RINGFENCE_REASON_FIELD_NOT_FILLED);
    check_on(connect, "7.2", 0, RINGFENCE_OK, RINGFENCE_REASON_NONE);
    check_on(connect, "7.3", 0, RINGFENCE_OK, RINGFENCE_REASON_NONE);
    /* SOCK_NONBLOCK: 7.3 never shows it in socket.type. */
    check_on(nonblock, "7.2", 0, RINGFENCE_OK, RINGFENCE_REASON_NONE);
    check_on(nonblock, "7.3", 0, RINGFENCE_ERR_KERNEL, RINGFENCE_REASON_BITS_NOT_SHOWN);
}

/* An OCI linux.ioUring object goes through the same door (ringfence::parse_policy tells it by content). */
static void oci(void) {
    static const char object[] = "{\n"
                                 "  \"defaultAction\": \"deny\",\n"
                                 "  \"ops\": [\"IORING_OP_READ\", \"IORING_OP_SOCKET\"],\n"
                                 "  \"socketFamilies\": [\"AF_UNIX\", \"AF_INET\"]\n"
                                 "}\n";
    static const char unknown[] = "{\n  \"defaultAction\": \"deny\",\n  \"ops\": [\"IORING_OP_NOSUCH\"]\n}\n";
    ringfence_error err;
    ringfence_policy *p = parse(object, &err);
    ringfence_kernel *k = ringfence_kernel_line("7.1", &err);
    CHECK(p != NULL);
    if (p) {
        ringfence_program *c = ringfence_compile(p, 45, &err);
        char *b = ringfence_bundle(p, "config.json", &err);
        CHECK(ringfence_policy_default_allows(p) == 0);
        CHECK(ringfence_policy_has_rules_for(p, 22) && ringfence_policy_has_rules_for(p, 45));
        CHECK(!ringfence_policy_has_rules_for(p, 18));
        CHECK(c && ringfence_program_instructions(c)[0].k == 16); /* SOCKET tests socket.family first */
        CHECK(b && strstr(b, "\"flag_names\": [\"DENY_REST\"]") != NULL);
        CHECK(k && ringfence_check(p, k, 0, &err) == RINGFENCE_OK);
        ringfence_free(b);
        ringfence_program_free(c);
    }
    ringfence_kernel_free(k);
    ringfence_policy_free(p);
    /* An unknown opcode name is an error at its place: line 3, where the string starts. */
    p = parse(unknown, &err);
    CHECK(p == NULL && err.status == RINGFENCE_ERR_PARSE);
    CHECK(err.line == 3 && err.column == 11); /* the string's opening quote */
    CHECK(strstr(err.message, "IORING_OP_NOSUCH") != NULL);
    if (err.line != 3 || err.column != 11) printf("  OCI error at %lu:%lu: %s\n", err.line, err.column, err.message);
    ringfence_policy_free(p);
}

static void errors(void) {
    ringfence_error err;
    ringfence_policy *p = parse("deny OPENAT if open.flags any 0x40000000\n", &err);
    char *b;
    CHECK(p != NULL);
    /* No kernel shows bit 0x40000000 of open.flags: no bundle, and no line passes the check. */
    b = ringfence_bundle(p, NULL, &err);
    CHECK(b == NULL && err.status == RINGFENCE_ERR_COMPILE);
    CHECK(strstr(err.message, "open.flags") != NULL);
    CHECK(ringfence_compile(NULL, 45, &err) == NULL && err.status == RINGFENCE_ERR_ARGUMENT);
    CHECK(ringfence_compile(p, 65, &err) == NULL && err.status == RINGFENCE_ERR_ARGUMENT);
    CHECK(strstr(err.message, "65") != NULL);
    CHECK(ringfence_check(p, NULL, 0, &err) == RINGFENCE_ERR_ARGUMENT);
    CHECK(ringfence_install(NULL, NULL, 0, &err) == RINGFENCE_ERR_ARGUMENT);
    CHECK(ringfence_install(p, NULL, 0x100, &err) == RINGFENCE_ERR_ARGUMENT);
    CHECK(ringfence_install_ring(p, -1, NULL, &err) == RINGFENCE_ERR_ARGUMENT);
    CHECK(ringfence_policy_parse(NULL, 3, &err) == NULL && err.status == RINGFENCE_ERR_ARGUMENT);
    /* No error struct: the functions still work and say nothing. */
    {
        ringfence_program *c = ringfence_compile(p, 18, NULL);
        CHECK(c != NULL);
        ringfence_program_free(c);
    }
    ringfence_policy_free(p);
    /* NUL bytes are text like any other: refused with a place, never cut short. */
    p = ringfence_policy_parse("allow SOCKET\0deny SOCKET\n", 25, &err);
    CHECK(p == NULL && err.status == RINGFENCE_ERR_PARSE && err.line == 1);
    ringfence_policy_free(p);
    ringfence_policy_free(NULL);
    ringfence_program_free(NULL);
    ringfence_kernel_free(NULL);
    ringfence_free(NULL);
}

/* The running kernel: a probe always answers. Without filters (the usual
 * build host), install refuses and installs nothing. */
static void host_kernel(void) {
    ringfence_error err;
    ringfence_kernel *k = ringfence_probe(&err);
    CHECK(k != NULL);
    if (!k) return;
    printf("host kernel: %s\n", ringfence_kernel_message(k));
    CHECK(strlen(ringfence_kernel_message(k)) > 0);
    if (!ringfence_kernel_has_filters(k)) {
        ringfence_policy *p = parse(server, &err);
        CHECK(ringfence_install(p, k, 0, &err) == RINGFENCE_ERR_KERNEL);
        CHECK(err.reason == RINGFENCE_REASON_KERNEL_UNSUPPORTED && err.installed == 0);
        CHECK(strstr(err.message, "nothing was installed") != NULL);
        ringfence_policy_free(p);
    }
    ringfence_kernel_free(k);
}

int main(void) {
    names();
    parse_errors();
    compile_and_bundle();
    kernel_checks();
    oci();
    errors();
    host_kernel();
    printf("capi.host: %d checks passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
