/*  xs_plugin: one request of the xapi plugin protocol, in and out.

    xapi runs /etc/xapi.d/plugins/xensm with one argument: an XML-RPC
    <methodCall> whose methodName is the function and whose params are the
    caller's session ref (a string) and a struct of string arguments. The
    plugin must write exactly one <methodResponse> on stdout whose value is
    the struct {Status: "Success", Value: <string>} or
    {Status: "Failure", ErrorDescription: [code, params...]}, and exit 0.

    xs_plugin_handle turns a request document into that response document,
    whatever the request holds: it never fails and never returns NULL.
    Functions are dispatched from one static table that also gives each
    function's arguments (required or optional, and how each is checked) and
    its help text. Values are JSON text.

    Functions that call xapi (xs_plugin_helper.h: libxensm-host, the XenAPI
    client, libcurl) are not in the plugin executable: for them the plugin
    exec()s the helper program xensm-xapi with the same request, so that
    ping, version and every refused request stay cheap (the plugin itself is
    linked statically where the archives exist: no ld.so work at start).
    The helper is this same handler with the xapi functions linked in
    (xs_plugin_set_helper_call).

    Errors follow xapi's convention: ErrorDescription = [code, params...].
    An error xapi gave a function passes through with exactly xapi's code
    and params (SESSION_INVALID [session ref], SR_BACKEND_FAILURE_73 ["",
    reason, driver stderr], ...); the message naming the object goes to
    syslog, not into the params (xapi throws a plugin's stderr away when it
    exits 0). xensm's own codes and their params:
      UNKNOWN_XENAPI_PLUGIN_FUNCTION [fn]     as XenAPIPlugin.py
      XENSM_BAD_REQUEST [message]             malformed XML or params
      XENSM_MISSING_ARGUMENT [fn, arg, message]
      XENSM_INVALID_ARGUMENT [fn, arg, message]
      XENSM_HELPER_ERROR [message]            the xapi helper cannot be run
      XENSM_CONFIG_ERROR [message]            the settings file is unusable
      XENSM_NO_HOST_UUID [message]            no inventory: "this host" unknown
      SR_OPERATION_NOT_SUPPORTED [sr uuid, capability]
                                              refused before asking xapi (the
                                              SR's type lacks VDI_CLONE, ...)
      XENSM_SR_IN_USE [sr uuid, reason]       sr_detach refused: the SR holds a
                                              VDI xensm does not own, or a disk
                                              in use (xs_hostops.h, Ownership)
      XENSM_<KIND> [message]                  other failures of a function
                                              (NOT_FOUND, TRANSPORT, INVALID, ...)
*/
#ifndef XS_PLUGIN_H_INCLUDED
#define XS_PLUGIN_H_INCLUDED

#include <stddef.h>
#include <stdio.h>

#include "xs_plugin_helper.h"

typedef struct _xs_plugin_t xs_plugin_t;

/* xapi's local socket: where the plugin calls back into xapi by default. */
#define XS_PLUGIN_DEFAULT_XAPI_URL "unix:/var/lib/xcp/xapi"

/* Largest request accepted (argv is bounded by the kernel anyway). */
#define XS_PLUGIN_MAX_REQUEST (1024 * 1024)

/* New request handler with the default xapi URL and helper path
   (XENSM_HELPER_PATH, the installed libexec/xensm/xensm-xapi); the program
   sets both from its settings file (xs_plugin_cfg). */
xs_plugin_t *xs_plugin_new (void);

/* Frees the handler, NULLs *self_p. Idempotent. */
void xs_plugin_destroy (xs_plugin_t **self_p);

/* URL of xapi for functions that call it (copied; NULL = the default). */
void xs_plugin_set_xapi_url (xs_plugin_t *self, const char *url);

/* Path of the xapi helper program (copied; NULL = the default). */
void xs_plugin_set_helper_path (xs_plugin_t *self, const char *path);

/* This host's uuid (from the inventory), or NULL with `error` saying why it
   is unknown: the functions that act on this host are then refused
   (XENSM_NO_HOST_UUID). Both NULL: the session's host (tests). Copied. */
void xs_plugin_set_host (xs_plugin_t *self, const char *uuid, const char *error);

/* The settings file could not be used (`message`, copied; NULL clears it):
   every function that calls xapi is refused with XENSM_CONFIG_ERROR. */
void xs_plugin_set_config_error (xs_plugin_t *self, const char *message);

/* Runs the functions that call xapi in this process through `call` (the
   helper program, tests, fuzzing) instead of exec()ing the helper program
   (NULL restores the exec). */
void xs_plugin_set_helper_call (xs_plugin_t *self, xs_plugin_call_fn *call);

/* Handles one request document (`len` bytes, need not be NUL-terminated).
   Returns the <methodResponse> document, NUL-terminated, its length in
   *len_p when not NULL. Never NULL; the caller frees it with free(). */
char *xs_plugin_handle (xs_plugin_t *self, const char *request, size_t len, size_t *len_p);

/* Writes every function with its arguments and help to `out`. */
void xs_plugin_print_help (FILE *out);

#endif
