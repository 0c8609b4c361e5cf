/*  xs_rawsend: sends one multi-frame ZeroMQ message from a DEALER socket and
    prints the reply, one frame per line. A test tool: integration tests use
    it to put garbage on the admin socket (Python has no zmq module here).

    xs_rawsend [--timeout MS] [--curve SERVER_CERT CLIENT_CERT] ENDPOINT FRAME...
      --curve  connect as a CURVE client: SERVER_CERT is the server's public
               certificate, CLIENT_CERT our own (czmq files: FILE + FILE_secret)
      FRAME  s:TEXT  the bytes of TEXT
             e:      an empty frame
             z:N     N bytes of 'x'
    Exit: 0 a reply was printed, 3 no reply within the timeout, 2 usage.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>

int
main (int argc, char **argv)
{
    long timeout = 5000;
    int first = 1;
    const char *server_cert = NULL, *client_cert = NULL;
    for (;;) {
        if (argc - first > 1 && strcmp (argv [first], "--timeout") == 0) {
            timeout = strtol (argv [first + 1], NULL, 10);
            first += 2;
        }
        else
        if (argc - first > 2 && strcmp (argv [first], "--curve") == 0) {
            server_cert = argv [first + 1];
            client_cert = argv [first + 2];
            first += 3;
        }
        else
            break;
    }
    if (argc - first < 1) {
        fprintf (stderr, "usage: xs_rawsend [--timeout MS] [--curve SERVER_CERT CLIENT_CERT] "
                         "ENDPOINT FRAME...\n");
        return 2;
    }
    const char *endpoint = argv [first];
    int nframes = argc - first - 1;
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger);
    if (server_cert) {
        zcert_t *server = zcert_load (server_cert);
        zcert_t *client = zcert_load (client_cert);
        if (!server || !client) {
            fprintf (stderr, "xs_rawsend: cannot load %s or %s\n", server_cert, client_cert);
            return 2;
        }
        zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, zcert_public_key (server), 32);
        zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, zcert_public_key (client), 32);
        zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, zcert_secret_key (client), 32);
        zcert_destroy (&server);
        zcert_destroy (&client);
    }
    if (zmq_connect (sock, endpoint)) {
        fprintf (stderr, "xs_rawsend: connect %s: %s\n", endpoint, zmq_strerror (errno));
        return 2;
    }
    for (int i = 0; i < nframes; i++) {
        const char *spec = argv [first + 1 + i];
        int flags = i + 1 < nframes ? ZMQ_SNDMORE : 0;
        int rc;
        if (strncmp (spec, "s:", 2) == 0)
            rc = zmq_send (sock, spec + 2, strlen (spec + 2), flags);
        else
        if (strcmp (spec, "e:") == 0)
            rc = zmq_send (sock, "", 0, flags);
        else
        if (strncmp (spec, "z:", 2) == 0) {
            size_t size = strtoul (spec + 2, NULL, 10);
            char *data = malloc (size ? size : 1);
            if (!data)
                return 2;
            memset (data, 'x', size);
            rc = zmq_send (sock, data, size, flags);
            free (data);
        }
        else {
            fprintf (stderr, "xs_rawsend: bad frame spec '%s'\n", spec);
            return 2;
        }
        if (rc < 0) {
            fprintf (stderr, "xs_rawsend: send: %s\n", zmq_strerror (errno));
            return 2;
        }
    }
    zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout) <= 0) {
        fprintf (stderr, "xs_rawsend: no reply within %ld ms\n", timeout);
        zmq_close (sock);
        zmq_ctx_term (ctx);
        return 3;
    }
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, sock, 0) < 0)
            break;
        fwrite (zmq_msg_data (&part), 1, zmq_msg_size (&part), stdout);
        fputc ('\n', stdout);
        more = zmq_msg_more (&part);
        zmq_msg_close (&part);
    }
    zmq_close (sock);
    zmq_ctx_term (ctx);
    return 0;
}
