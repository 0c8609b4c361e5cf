/*  xs_zap: the ZAP handler (ZeroMQ RFC 27) that admits the agents' CURVE
    keys during the handshake, from the allow-list directory (xs_allowlist).

    It replaces czmq's zauth for the agent socket: zauth's certificate store
    re-reads the directory listing (a stat of every certificate file) on
    every handshake, so admitting 10,000 agents cost 10^8 stats and their
    handshakes timed out faster than they were served. This handler asks an
    xs_allowlist of its own, which reads the directory again only when it
    changed. Same rule as before: a CURVE client whose key has a public
    certificate file in the directory (any name) is admitted, with the Z85
    key as its User-Id; anything else is refused (400). One per process
    (the ZAP endpoint is the context's).

    zactor_t *auth = zactor_new (xs_zap_actor, &args);   (args lives until
    zactor_new returns; args.ok says whether it runs)
*/
#ifndef XS_ZAP_H_INCLUDED
#define XS_ZAP_H_INCLUDED

#include <stdbool.h>
#include <czmq.h>

/* ZMQ_ZAP_ENFORCE_DOMAIN: libzmq 4.3 honours it, its header declares it
   only with the draft API. The agent socket sets it: xs_zap rebinds its
   socket now and then (to let go of the finished handshakes' ZAP pipes),
   and a handshake in between must fail, not pass unauthenticated. */
#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
#define XS_ZAP_ENFORCE_DOMAIN ZMQ_ZAP_ENFORCE_DOMAIN
#else
#define XS_ZAP_ENFORCE_DOMAIN 93
#endif

typedef struct {
    const char *dir;            /* the allow-list directory              */
    bool ok;                    /* set by the actor: bound and serving    */
} xs_zap_args_t;

void xs_zap_actor (zsock_t *pipe, void *args);

/* How many times the actor rebound its socket (to let go of the finished
   handshakes' ZAP pipes: 200 ms without a handshake, or every 512), or -1. */
int xs_zap_recycled (zactor_t *auth);

#endif
