/* Reference rows for bench/init.sh: the least an init can do (fork, exec, wait, pass the
 * exit code on) as a static binary, with and without libcrypto linked in (-DWITH_CRYPTO).
 * devinit must carry libcrypto (and libpq) in its one static binary; OpenSSL's constructor
 * runs before main whether or not anything is hashed, so the difference between the two
 * rows is a cost no init with OpenSSL inside can avoid. Not an init to use: no signals are
 * forwarded, no orphan is reaped. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef WITH_CRYPTO
#include <openssl/evp.h>
#endif

int main(int argc, char **argv)
{
#ifdef WITH_CRYPTO
    /* Never true: it only makes the linker keep libcrypto. */
    if (argc < 0)
        return EVP_MD_get_size(EVP_sha256());
#endif
    if (argc < 3) {
        fprintf(stderr, "usage: min-init -- COMMAND [ARG...]\n");
        return 64;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 71;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
