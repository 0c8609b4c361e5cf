/*  xs_connguard: keeps the connections of a listening CURVE socket (the
    agent ROUTER) from using up the process's descriptors.

    Anybody who reaches the agent port can open TCP connections and never
    start the CURVE handshake. libzmq gives each its descriptor until the
    handshake interval (XS_CONNGUARD_HANDSHAKE_MS, set on the socket by
    xs_connguard_prepare) drops it; a flood of them inside that interval
    used to reach the soft limit, and libzmq aborts the whole process when
    accept(2) then fails with EMFILE on the admin (ipc) socket.

    The guard watches the socket's monitor events: every accepted
    connection is counted, and a new one is shed (shutdown(2) on its
    descriptor; libzmq then closes it as a peer that went away) when

    - the connections accepted within the handshake interval (those that
      may still be unauthenticated) reach half the descriptors usable, or
    - all the socket's connections reach the descriptors usable,

    where "usable" is the soft RLIMIT_NOFILE less a reserve (an eighth, at
    least 64) for the database, the admin and API sockets and libzmq's own.
    A shed agent reconnects after its back-off. Failed handshakes are logged
    as before (a refused key names the reason).
*/
#ifndef XS_CONNGUARD_H_INCLUDED
#define XS_CONNGUARD_H_INCLUDED

#include <czmq.h>

#define XS_CONNGUARD_HANDSHAKE_MS 10000

typedef struct _xs_connguard_t xs_connguard_t;

/* Sets the options the guard relies on (the handshake interval) on sock,
   before it binds. */
void xs_connguard_prepare (zsock_t *sock);

/* Watches sock on loop (call it before sock binds, so that no connection
   is missed). NULL when its monitor cannot be made (logged; the socket
   still works, unguarded). */
xs_connguard_t *xs_connguard_new (zsock_t *sock, zloop_t *loop);

/* The endpoint sock is bound to (tcp://addr:port, as bound): only the
   connections to its port are ever shed. */
void xs_connguard_bound (xs_connguard_t *self, const char *endpoint);

/* Stops watching (before sock is destroyed); NULLs *self_p. */
void xs_connguard_destroy (xs_connguard_t **self_p);

/* Connections counted now, and shed since the start (tests, metrics). */
size_t xs_connguard_open (const xs_connguard_t *self);
uint64_t xs_connguard_shed (const xs_connguard_t *self);

#endif
