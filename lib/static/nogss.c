/* Linked only into the static build. Debian's libpq.a was built with GSSAPI and LDAP, but
 * Debian ships no static Kerberos or LDAP archives. These definitions answer every call
 * libpq makes with "not supported": libpq then never offers GSS encryption, fails with a
 * clear error if a server demands GSS authentication, and fails an LDAP service lookup.
 * `devinit --version` and the README say so.
 *
 * The prototypes are written out here because the real headers are not installed; C links by
 * name, and every caller only looks at the status these return. */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t om_uint32;

/* GSS_S_FAILURE: a routine error of "unspecified failure". */
#define NOGSS_FAILURE (13u << 16)

void *GSS_C_NT_HOSTBASED_SERVICE = NULL;

#define NOGSS(name)                                                                                \
    om_uint32 name(om_uint32 *minor, ...);                                                         \
    om_uint32 name(om_uint32 *minor, ...)                                                          \
    {                                                                                              \
        if (minor)                                                                                 \
            *minor = 0;                                                                            \
        return NOGSS_FAILURE;                                                                      \
    }

NOGSS(gss_acquire_cred)
NOGSS(gss_delete_sec_context)
NOGSS(gss_display_status)
NOGSS(gss_import_name)
NOGSS(gss_init_sec_context)
NOGSS(gss_release_buffer)
NOGSS(gss_release_cred)
NOGSS(gss_release_name)
NOGSS(gss_unwrap)
NOGSS(gss_wrap)
NOGSS(gss_wrap_size_limit)

/* LDAP: ldap_init returning NULL makes libpq report "could not create LDAP structure" before
 * any other call is reached; the rest only satisfy the linker and fail if ever called. */
void *ldap_init(const char *host, int port);
void *ldap_init(const char *host, int port)
{
    return NULL;
}

#define NOLDAP(name)                                                                               \
    int name(void);                                                                                \
    int name(void)                                                                                 \
    {                                                                                              \
        return -1;                                                                                 \
    }

NOLDAP(ldap_count_entries)
NOLDAP(ldap_first_entry)
NOLDAP(ldap_get_values_len)
NOLDAP(ldap_msgfree)
NOLDAP(ldap_result)
NOLDAP(ldap_search_st)
NOLDAP(ldap_set_option)
NOLDAP(ldap_simple_bind)
NOLDAP(ldap_unbind)
NOLDAP(ldap_value_free_len)

const char *ldap_err2string(int err);
const char *ldap_err2string(int err)
{
    return "LDAP is not supported by this static build of devinit";
}
