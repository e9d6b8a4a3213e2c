// OpenBLAS from Debian's libopenblas-dev: the CBLAS interface plus the OpenBLAS calls that
// report the detected core and set the thread count.
#include <cblas.h>
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
