/* A consumer of the installed C API: parse, compile, check for a measured
 * line, write the bundle. Exit 0 when every answer is the expected one. */
#include <ringfence/ringfence.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    static const char text[] = "default deny\nallow SOCKET if socket.family == AF_INET\n";
    ringfence_error err;
    ringfence_policy *p = ringfence_policy_parse(text, strlen(text), &err);
    ringfence_program *prog;
    ringfence_kernel *k;
    char *bundle;
    int ok;
    if (!p) {
        printf("parse: %lu:%lu: %s\n", err.line, err.column, err.message);
        return 1;
    }
    prog = ringfence_compile(p, (unsigned)ringfence_opcode_from_name("SOCKET"), &err);
    k = ringfence_kernel_line("7.3", &err);
    bundle = ringfence_bundle(p, "consumer", &err);
    ok = prog && ringfence_program_length(prog) == 4 && ringfence_program_instructions(prog)[0].k == 16 && k &&
         ringfence_check(p, k, 0, &err) == RINGFENCE_OK && bundle &&
         strstr(bundle, "\"format\": \"ringfence-bundle\"") != NULL;
    printf("ringfence %s: %s\n", ringfence_version(), ok ? "the C API works" : "FAILED");
    ringfence_free(bundle);
    ringfence_kernel_free(k);
    ringfence_program_free(prog);
    ringfence_policy_free(p);
    return ok ? 0 : 1;
}
