// The part of MPI the MPI communicator calls, bound at run time instead of linked: MPILoader.c
// opens Open MPI's libmpi.so.40 with dlopen and resolves each function, and the handles this API
// names by enum (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...), which in Open MPI's ABI are the
// addresses of exported globals (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum, ...), with
// dlsym as well. The build needs no MPI headers; every call is on MPI_COMM_WORLD.
#ifndef GPT_CMPI_H
#define GPT_CMPI_H

#include <stddef.h>

/// An MPI_Request (Open MPI: a pointer to its request object); NULL once complete.
typedef void *gpt_mpi_request;

/// The element types the communicator moves.
enum gpt_mpi_type { GPT_MPI_FLOAT = 0, GPT_MPI_DOUBLE = 1, GPT_MPI_BYTE = 2, GPT_MPI_INT64 = 3 };
/// The reductions it uses.
enum gpt_mpi_op { GPT_MPI_SUM = 0, GPT_MPI_MAX = 1 };

/// Opens libmpi (`path`, or libmpi.so.40 when NULL) and resolves every function and handle. Returns
/// 1 on success; otherwise 0 with a one-line reason in `error` (`capacity` bytes).
int gpt_mpi_load(const char *path, char *error, size_t capacity);
/// MPI_Get_library_version (allowed before MPI_Init), e.g. "Open MPI v4.1.4, package: ...".
int gpt_mpi_library_version(char *text, size_t capacity);
/// MPI_Init_thread asking for MPI_THREAD_SERIALIZED (the communicator serialises its calls with a
/// lock, from its progress thread and the caller's); `provided` is the level granted (0 single,
/// 1 funneled, 2 serialized, 3 multiple). Errors on MPI_COMM_WORLD then return instead of aborting.
int gpt_mpi_init(int *provided);
int gpt_mpi_rank(int *rank);
int gpt_mpi_size(int *size);
/// In place (MPI_IN_PLACE): `buffer` holds this rank's values and receives the result.
int gpt_mpi_iallreduce(void *buffer, int count, enum gpt_mpi_type type, enum gpt_mpi_op op, gpt_mpi_request *request);
/// MPI_Ireduce_scatter with MPI_SUM: `send` holds sum(counts) elements, `receive` this rank's block.
int gpt_mpi_ireduce_scatter(const void *send, void *receive, const int *counts, enum gpt_mpi_type type,
                            gpt_mpi_request *request);
/// MPI_Iallgatherv in place: rank r's block sits at displacements[r] of `buffer` and is sent from there.
int gpt_mpi_iallgatherv(void *buffer, const int *counts, const int *displacements, enum gpt_mpi_type type,
                        gpt_mpi_request *request);
int gpt_mpi_ibcast(void *buffer, int count, enum gpt_mpi_type type, int root, gpt_mpi_request *request);
int gpt_mpi_ibarrier(gpt_mpi_request *request);
int gpt_mpi_isend(const void *buffer, int count, enum gpt_mpi_type type, int destination, int tag,
                  gpt_mpi_request *request);
/// `source` -1 is MPI_ANY_SOURCE.
int gpt_mpi_irecv(void *buffer, int count, enum gpt_mpi_type type, int source, int tag, gpt_mpi_request *request);
/// MPI_Test: `done` becomes 1 when the request is complete (it is then freed and set to NULL).
int gpt_mpi_test(gpt_mpi_request *request, int *done);
int gpt_mpi_cancel(gpt_mpi_request *request);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank.
void gpt_mpi_abort(int status);
int gpt_mpi_finalize(void);
/// MPI_Error_string of an error code.
void gpt_mpi_error_string(int code, char *text, size_t capacity);

#endif
