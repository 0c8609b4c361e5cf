/*  xs_static_stubs: what Debian's libzmq.a and libczmq.a call in libraries
    that have no static archive, for the static host programs
    (XENSM_STATIC_HOST, cmake/XensmStatic.cmake).

    - libzmq's GSS-API mechanism (libgssapi_krb5): every call fails with
      GSS_S_FAILURE, as it would with no Kerberos credentials. xensm
      authenticates with CURVE and never sets ZMQ_GSSAPI_*, so libzmq never
      reaches them; if it did, the handshake would fail, not succeed.
    - czmq's systemd socket activation (libsystemd): no socket was passed,
      which is the truth for xensm-agentd (it is not socket-activated).

    Linked after the archives (an archive member is only pulled in for a
    symbol nothing else defines), so a build with the real libraries'
    archives would use those instead.
*/
#include <gssapi/gssapi.h>
#include <systemd/sd-daemon.h>

/* ---------------------------------------------------------------------
   GSS-API: no mechanism
   --------------------------------------------------------------------- */
gss_OID GSS_C_NT_USER_NAME = GSS_C_NO_OID;
gss_OID GSS_C_NT_HOSTBASED_SERVICE = GSS_C_NO_OID;

#define S_NO_GSSAPI(minor) do { if (minor) *(minor) = 0; return GSS_S_FAILURE; } while (0)

OM_uint32
gss_accept_sec_context (OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred,
                        gss_buffer_t token_in, gss_channel_bindings_t bindings,
                        gss_name_t *src_name, gss_OID *mech, gss_buffer_t token_out,
                        OM_uint32 *flags, OM_uint32 *time_rec, gss_cred_id_t *delegated)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_acquire_cred (OM_uint32 *minor, gss_name_t name, OM_uint32 time_req,
                  gss_OID_set mechs, gss_cred_usage_t usage, gss_cred_id_t *cred,
                  gss_OID_set *actual_mechs, OM_uint32 *time_rec)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_delete_sec_context (OM_uint32 *minor, gss_ctx_id_t *ctx, gss_buffer_t token_out)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_display_name (OM_uint32 *minor, gss_name_t name, gss_buffer_t out, gss_OID *type)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_import_name (OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *name)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_init_sec_context (OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx,
                      gss_name_t target, gss_OID mech, OM_uint32 req_flags,
                      OM_uint32 time_req, gss_channel_bindings_t bindings,
                      gss_buffer_t token_in, gss_OID *actual_mech, gss_buffer_t token_out,
                      OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_release_buffer (OM_uint32 *minor, gss_buffer_t buffer)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_release_cred (OM_uint32 *minor, gss_cred_id_t *cred)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_release_name (OM_uint32 *minor, gss_name_t *name)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_unwrap (OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t in, gss_buffer_t out,
            int *conf_state, gss_qop_t *qop_state)
{
    S_NO_GSSAPI (minor);
}

OM_uint32
gss_wrap (OM_uint32 *minor, gss_ctx_id_t ctx, int conf_req, gss_qop_t qop,
          gss_buffer_t in, int *conf_state, gss_buffer_t out)
{
    S_NO_GSSAPI (minor);
}

/* ---------------------------------------------------------------------
   systemd: not socket-activated
   --------------------------------------------------------------------- */
int
sd_listen_fds (int unset_environment)
{
    return 0;
}

int
sd_is_socket_inet (int fd, int family, int type, int listening, uint16_t port)
{
    return 0;
}

int
sd_is_socket_unix (int fd, int type, int listening, const char *path, size_t length)
{
    return 0;
}
