#include <mpi.h>
int main(void) { int v, s; return MPI_Get_version(&v, &s) != MPI_SUCCESS || MPI_Alltoallv == 0; }
