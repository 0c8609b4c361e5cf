/*  xs-bench-libs: a C program that links libxml2, libcurl and jansson and
    initialises them, what a plugin that linked its xapi client directly
    would pay on every call (the design's "~8 ms, 10 MiB" figure). */
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>

int main (void);

int
main (void)
{
    xmlInitParser ();
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    json_t *probe = json_object ();
    json_decref (probe);
    curl_global_cleanup ();
    return 0;
}
