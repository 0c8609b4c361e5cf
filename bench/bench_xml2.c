/*  xs-bench-xml2: a C program that links only libxml2, initialises it and
    parses one small methodCall: the cost of loading libxml2 and what it
    pulls in (on Debian ICU, liblzma, zlib, libstdc++), for the plugin
    dispatch breakdown.

    With --smaps it prints, before exiting, the resident memory of every
    mapped file and of the anonymous memory (KiB, from /proc/self/smaps), so
    that bench/run can say where the RSS goes:
        <KiB> TAB <mapping>
*/
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

int main (int argc, char *argv []);

static const char s_request [] =
    "<?xml version=\"1.0\"?><methodCall><methodName>ping</methodName><params>"
    "<param><value>OpaqueRef:0</value></param><param><value><struct/></value></param>"
    "</params></methodCall>";

/* Sums Rss per mapping name (file path, [heap], [stack], or anonymous). */
static int
s_print_smaps (void)
{
    FILE *smaps = fopen ("/proc/self/smaps", "r");
    if (!smaps)
        return -1;
    static char names [128][512];
    static long kib [128];
    char line [4096], name [512] = "";
    int n = 0;
    while (fgets (line, sizeof line, smaps)) {
        unsigned long start = 0, end = 0;
        int offset = 0;
        long rss = 0;
        if (sscanf (line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &offset) == 2 && offset > 0) {
            size_t len = strcspn (line + offset, "\n");
            if (len >= sizeof name)
                len = sizeof name - 1;
            memcpy (name, line + offset, len);
            name [len] = '\0';
            if (len == 0)
                strcpy (name, "[anonymous]");
        }
        else if (sscanf (line, "Rss: %ld kB", &rss) == 1 && rss > 0) {
            int i = 0;
            while (i < n && strcmp (names [i], name) != 0)
                i++;
            if (i == n && n < 128) {
                memcpy (names [n], name, sizeof name);
                kib [n++] = 0;
            }
            if (i < n)
                kib [i] += rss;
        }
    }
    fclose (smaps);
    for (int i = 0; i < n; i++)
        printf ("%ld\t%s\n", kib [i], names [i]);
    return 0;
}

int
main (int argc, char *argv [])
{
    xmlInitParser ();
    xmlDocPtr doc = xmlReadMemory (s_request, (int) sizeof s_request - 1, "request.xml", NULL,
                                   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return 1;
    xmlFreeDoc (doc);
    if (argc == 2 && strcmp (argv [1], "--smaps") == 0)
        return s_print_smaps () == 0 ? 0 : 1;
    return 0;
}
