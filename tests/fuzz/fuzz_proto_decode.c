/*  libFuzzer target for the agent protocol codec (xs_proto_decode).

    Any input must decode to a message or to a clear error (with an error
    reply unless the input was itself an `error`), never crash, leak or trip a
    sanitizer. A message that decodes must encode again and decode to a
    message of the same type and id; every error reply must encode.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xs_proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_die (const char *what, const char *detail)
{
    fprintf (stderr, "fuzz_proto_decode: %s: %s\n", what, detail);
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    xs_err_t err;
    xs_proto_t *reply = NULL;
    xs_proto_t *msg = xs_proto_decode (data, size, &reply, &err);
    if (!msg) {
        if (err.msg [0] == '\0')
            s_die ("failure without a message", "");
        if (reply) {
            size_t n = 0;
            char *text = xs_proto_encode (reply, &n, &err);
            if (!text)
                s_die ("error reply does not encode", err.msg);
            free (text);
            xs_proto_destroy (&reply);
        }
        return 0;
    }
    if (reply)
        s_die ("a decoded message came with an error reply", "");
    size_t n = 0;
    char *text = xs_proto_encode (msg, &n, &err);
    if (!text)
        s_die ("decoded message does not encode", err.msg);
    xs_proto_t *again = xs_proto_decode (text, n, NULL, &err);
    if (!again)
        s_die ("re-encoded message does not decode", err.msg);
    if (xs_proto_type (again) != xs_proto_type (msg)
    ||  strcmp (xs_proto_id (again), xs_proto_id (msg)) != 0)
        s_die ("round trip changed the message", text);
    free (text);
    xs_proto_destroy (&again);
    xs_proto_destroy (&msg);
    return 0;
}
