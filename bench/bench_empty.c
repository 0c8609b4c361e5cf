/*  xs-bench-empty: the floor of the plugin dispatch benchmark, a C program
    that does nothing (fork + exec + the dynamic loader with libc only). */
int main (void);

int
main (void)
{
    return 0;
}
