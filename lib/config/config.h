/* Configuration: built-in defaults < the INI file < DEVINIT_<SECTION>_<KEY> environment
 * variables < command-line flags. Every key is a row of one table in config.c; defaults are
 * written there as text and parsed by the same code as the file, so the defaults, the file,
 * the environment and config.ini.example cannot disagree about a value's form.
 *
 * Error functions write a one-line message into err (file and line for the INI file, the
 * variable's name for the environment) and return -EINVAL (bad content) or -errno (I/O);
 * the caller exits EXIT_CONFIG. */
#ifndef DEVINIT_CONFIG_H
#define DEVINIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>

#include "base/log.h"

enum step_mode { MODE_AUTO = 0, MODE_ALWAYS, MODE_OFF };
enum migrate_mode { MIGRATE_CHECK = 0, MIGRATE_DEPLOY, MIGRATE_OFF };
enum deploy_engine { DEPLOY_NATIVE = 0, DEPLOY_PRISMA };
enum policy { POLICY_WARN = 0, POLICY_FAIL };
enum restart_policy { RESTART_NO = 0, RESTART_ON_FAILURE, RESTART_ALWAYS };
enum watch_mode { WATCH_AUTO = 0, WATCH_EVENTS, WATCH_POLL, WATCH_OFF };

struct config {
    struct {
        enum log_level level;
        enum log_color color;
    } log;
    struct {
        uint64_t stop_timeout_ms;
        char *dir;  /* the app's directory: package.json, prisma/, .env; "" = cwd */
        char *user; /* NAME|UID[:GID] the steps and the app run as; "" = devinit's own */
        enum restart_policy restart;
        uint64_t restart_delay_ms; /* first delay; doubles up to restart_max_delay_ms */
        uint64_t restart_max_delay_ms;
    } app;
    struct {
        enum watch_mode mode;
        uint64_t debounce_ms;
        uint64_t interval_ms; /* poll mode */
        bool migrate;         /* deploy new migration folders as they appear */
    } watch;
    struct {
        char *socket; /* the control socket's path; "" = none (see CONFIG_SOCKET_DEFAULT) */
    } control;
    struct {
        enum step_mode mode;
        char *command; /* "" = chosen from the lockfile */
    } deps;
    struct {
        enum step_mode mode;
    } generate;
    struct {
        char *schema; /* "" = package.json's prisma.schema, else prisma/schema.prisma|schema/ */
        char *config; /* "" = prisma.config.{ts,mts,cts,js,mjs,cjs} in the app directory */
    } prisma;
    struct {
        char *url;     /* "" = read the variable named by url_env */
        char *url_env; /* default DATABASE_URL */
    } database;
    struct {
        uint64_t timeout_ms;
        char *services; /* "host:port, host:port" */
    } wait;
    struct {
        enum migrate_mode mode;
        enum deploy_engine deploy_with;
        enum policy pending, edited, missing_locally, failed;
        uint64_t lock_timeout_ms;
        uint64_t timeout_ms; /* each query on _prisma_migrations; 0 = no bound */
        char *dir;           /* "" = migrations/ next to the schema */
    } migrate;

    /* Not keys: set from the command line only. */
    unsigned steps;     /* STEP_BIT()s still enabled after --skip/--only; all by default */
    const char *source; /* the INI file that was read, or NULL */
};

/* Fills c with the built-in defaults. Strings are owned by c; config_free releases them. */
void config_init(struct config *c);
void config_free(struct config *c);

/* Applies one key from any source. where names the source for messages ("devinit.ini:12",
 * "DEVINIT_WAIT_TIMEOUT", "--stop-timeout"). Unknown section/key or a bad value: -EINVAL. */
int config_set(struct config *c, const char *section, const char *key, const char *value,
               const char *where, char *err, size_t errlen);

/* Reads an INI file with inih. A missing file is -ENOENT with no message when !must_exist.
 * Unknown sections or keys, bad values, duplicate keys and syntax errors are -EINVAL naming
 * "path:line". */
int config_load_file(struct config *c, const char *path, bool must_exist, char *err, size_t errlen);

/* The same, from an open stream (path names it in messages). The file's own code path: the
 * fuzzer feeds it through fmemopen. */
int config_load_stream(struct config *c, FILE *f, const char *path, char *err, size_t errlen);

/* Applies every DEVINIT_<SECTION>_<KEY> variable of envp (DEVINIT_CONFIG excepted). An
 * unknown DEVINIT_ variable is only warned about: environments are shared with other tools. */
int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen);

struct cli;

/* The control socket's default path. /run is root's: for a devinit that is not root (a
 * `USER node` image) config_resolve turns this value into $XDG_RUNTIME_DIR/devinit.sock, or
 * /tmp/devinit-<uid>/devinit.sock when that variable is unset or not an absolute path; its
 * clients, run as the same user, resolve the same path. */
#define CONFIG_SOCKET_DEFAULT "/run/devinit/devinit.sock"

/* Sets *socket to the path a devinit of effective uid euid uses for the configured socket
 * path (see CONFIG_SOCKET_DEFAULT); xdg_runtime_dir may be NULL. 0 or -ENOMEM. */
int config_socket_path(char **socket, uid_t euid, const char *xdg_runtime_dir);

/* The whole configuration, by precedence: built-in defaults < the INI file (cli->config_path,
 * else DEVINIT_CONFIG of envp, else ./devinit.ini when it exists) < the DEVINIT_* variables of
 * envp < the command line's flags (--stop-timeout, -v/-q, and steps: the STEP_BIT()s that
 * --skip/--only leave, from steps_select()). c need not be
 * initialised; free it with config_free() whatever the result. 0, or -errno with a one-line
 * message in err (the caller exits EXIT_CONFIG). */
int config_resolve(struct config *c, const struct cli *cli, unsigned steps, char *const *envp,
                   char *err, size_t errlen);

/* Parses "5", "5s", "250ms", "2m" into milliseconds. 0 or -EINVAL. */
int config_parse_duration(const char *text, uint64_t *ms);

/* The key table, for the example-file test and for --help. */
struct config_key_info {
    const char *section, *key, *def, *help;
};
size_t config_key_count(void);
const struct config_key_info *config_key_at(size_t i);

#endif
