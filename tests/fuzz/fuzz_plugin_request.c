/*  libFuzzer target: the xapi plugin's request handling (xs_plugin_handle):
    XML-RPC parsing, the params checks, dispatch and every function's
    argument checks. Functions that call xapi run against a stub helper that
    answers at once, so the fuzzer reaches the argument checks and the
    response encoding of every function without a network. Every response
    must be one decodable methodResponse holding a Status. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xe-plugin/xs_plugin.h"
#include "common/xs_log.h"
#include "common/xs_value.h"
#include "common/xs_xmlrpc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_stub_call (const char *function, const xs_plugin_where_t *where, const char *session,
             const xs_plugin_arg_t *args, size_t nargs, xs_plugin_result_t *result)
{
    /* Fail for odd argument counts so both response shapes are encoded. */
    if (nargs % 2) {
        result->description = calloc (3, sizeof (char *));
        result->description [0] = strdup ("SR_BACKEND_FAILURE_73");
        result->description [1] = strdup (nargs ? args [0].value : function);
        return -1;
    }
    result->value = strdup (nargs ? args [0].value : function);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static xs_plugin_t *plugin = NULL;
    if (!plugin) {
        xs_log_init ("fuzz", false, XS_LOG_ERROR);
        plugin = xs_plugin_new ();
        xs_plugin_set_helper_call (plugin, s_stub_call);
    }
    size_t len = 0;
    char *response = xs_plugin_handle (plugin, (const char *) data, size, &len);
    if (!response)
        abort ();
    xs_err_t err;
    xs_value_t *value = xs_xmlrpc_decode_response (response, len, NULL, &err);
    if (!value || !xs_value_get_str (value, "Status"))
        abort ();           /* the plugin wrote something xapi cannot read */
    xs_value_destroy (&value);
    free (response);
    return 0;
}
