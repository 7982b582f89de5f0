// Run-time binding of Open MPI: every function CMPI.h declares forwards to the entry point dlsym
// resolves, and the handles are the addresses of the globals Open MPI's ABI exports (in its mpi.h,
// MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT &ompi_mpi_float, MPI_SUM &ompi_mpi_op_sum, and
// so on). The library is opened RTLD_GLOBAL because Open MPI dlopens its own components (the
// shared-memory and TCP transports, the collective algorithms), which resolve symbols of libmpi.

#include "CMPI.h"

#include <dlfcn.h>
#include <stdio.h>

typedef void *handle;

// Open MPI's constants that its mpi.h defines as plain values (not globals).
static void *const in_place = (void *)1;   // MPI_IN_PLACE
static const int thread_serialized = 2;    // MPI_THREAD_SERIALIZED
static const int any_source = -1;          // MPI_ANY_SOURCE

static handle comm_world, errors_return, request_null;
static handle types[4], ops[2];

static int (*init_thread_entry)(int *, char ***, int, int *);
static int (*get_library_version_entry)(char *, int *);
static int (*comm_set_errhandler_entry)(handle, handle);
static int (*comm_rank_entry)(handle, int *);
static int (*comm_size_entry)(handle, int *);
static int (*iallreduce_entry)(const void *, void *, int, handle, handle, handle, handle *);
static int (*ireduce_scatter_entry)(const void *, void *, const int *, handle, handle, handle, handle *);
static int (*iallgatherv_entry)(const void *, int, handle, void *, const int *, const int *, handle, handle, handle *);
static int (*ibcast_entry)(void *, int, handle, int, handle, handle *);
static int (*ibarrier_entry)(handle, handle *);
static int (*isend_entry)(const void *, int, handle, int, int, handle, handle *);
static int (*irecv_entry)(void *, int, handle, int, int, handle, handle *);
static int (*test_entry)(handle *, int *, void *);
static int (*cancel_entry)(handle *);
static int (*wait_entry)(handle *, void *);
static int (*abort_entry)(handle, int);
static int (*finalize_entry)(void);
static int (*error_string_entry)(int, char *, int *);

static int resolve(void *library, const char *name, void **entry, char *error, size_t capacity) {
    *entry = dlsym(library, name);
    if (!*entry) snprintf(error, capacity, "the MPI library has no %s (is it Open MPI 4 or 5, libmpi.so.40?)", name);
    return *entry != NULL;
}

#define RESOLVE(name, entry) resolve(library, name, (void **)&(entry), error, capacity)

int gpt_mpi_load(const char *path, char *error, size_t capacity) {
    void *library = dlopen(path ? path : "libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        snprintf(error, capacity, "%s", dlerror());
        return 0;
    }
    return RESOLVE("ompi_mpi_comm_world", comm_world) && RESOLVE("ompi_mpi_errors_return", errors_return) &&
           RESOLVE("ompi_request_null", request_null) && RESOLVE("ompi_mpi_float", types[GPT_MPI_FLOAT]) &&
           RESOLVE("ompi_mpi_double", types[GPT_MPI_DOUBLE]) && RESOLVE("ompi_mpi_byte", types[GPT_MPI_BYTE]) &&
           RESOLVE("ompi_mpi_long_long_int", types[GPT_MPI_INT64]) && RESOLVE("ompi_mpi_op_sum", ops[GPT_MPI_SUM]) &&
           RESOLVE("ompi_mpi_op_max", ops[GPT_MPI_MAX]) && RESOLVE("MPI_Init_thread", init_thread_entry) &&
           RESOLVE("MPI_Get_library_version", get_library_version_entry) &&
           RESOLVE("MPI_Comm_set_errhandler", comm_set_errhandler_entry) &&
           RESOLVE("MPI_Comm_rank", comm_rank_entry) && RESOLVE("MPI_Comm_size", comm_size_entry) &&
           RESOLVE("MPI_Iallreduce", iallreduce_entry) && RESOLVE("MPI_Ireduce_scatter", ireduce_scatter_entry) &&
           RESOLVE("MPI_Iallgatherv", iallgatherv_entry) && RESOLVE("MPI_Ibcast", ibcast_entry) &&
           RESOLVE("MPI_Ibarrier", ibarrier_entry) && RESOLVE("MPI_Isend", isend_entry) &&
           RESOLVE("MPI_Irecv", irecv_entry) && RESOLVE("MPI_Test", test_entry) &&
           RESOLVE("MPI_Cancel", cancel_entry) && RESOLVE("MPI_Wait", wait_entry) &&
           RESOLVE("MPI_Abort", abort_entry) && RESOLVE("MPI_Finalize", finalize_entry) &&
           RESOLVE("MPI_Error_string", error_string_entry);
}

int gpt_mpi_library_version(char *text, size_t capacity) {
    char version[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI; room to spare
    int length = 0;
    int status = get_library_version_entry(version, &length);
    if (status == 0) snprintf(text, capacity, "%.*s", length, version);
    return status;
}

int gpt_mpi_init(int *provided) {
    int status = init_thread_entry(NULL, NULL, thread_serialized, provided);
    return status != 0 ? status : comm_set_errhandler_entry(comm_world, errors_return);
}

int gpt_mpi_rank(int *rank) { return comm_rank_entry(comm_world, rank); }

int gpt_mpi_size(int *size) { return comm_size_entry(comm_world, size); }

int gpt_mpi_iallreduce(void *buffer, int count, enum gpt_mpi_type type, enum gpt_mpi_op op, gpt_mpi_request *request) {
    return iallreduce_entry(in_place, buffer, count, types[type], ops[op], comm_world, request);
}

int gpt_mpi_ireduce_scatter(const void *send, void *receive, const int *counts, enum gpt_mpi_type type,
                            gpt_mpi_request *request) {
    return ireduce_scatter_entry(send, receive, counts, types[type], ops[GPT_MPI_SUM], comm_world, request);
}

int gpt_mpi_iallgatherv(void *buffer, const int *counts, const int *displacements, enum gpt_mpi_type type,
                        gpt_mpi_request *request) {
    // With MPI_IN_PLACE the send count and type are ignored.
    return iallgatherv_entry(in_place, 0, types[type], buffer, counts, displacements, types[type], comm_world,
                             request);
}

int gpt_mpi_ibcast(void *buffer, int count, enum gpt_mpi_type type, int root, gpt_mpi_request *request) {
    return ibcast_entry(buffer, count, types[type], root, comm_world, request);
}

int gpt_mpi_ibarrier(gpt_mpi_request *request) { return ibarrier_entry(comm_world, request); }

int gpt_mpi_isend(const void *buffer, int count, enum gpt_mpi_type type, int destination, int tag,
                  gpt_mpi_request *request) {
    return isend_entry(buffer, count, types[type], destination, tag, comm_world, request);
}

int gpt_mpi_irecv(void *buffer, int count, enum gpt_mpi_type type, int source, int tag, gpt_mpi_request *request) {
    return irecv_entry(buffer, count, types[type], source < 0 ? any_source : source, tag, comm_world, request);
}

// MPI sets a completed request to MPI_REQUEST_NULL, which in Open MPI is &ompi_request_null, not
// NULL: this API says NULL for "nothing pending" on both sides.
int gpt_mpi_test(gpt_mpi_request *request, int *done) {
    if (*request == NULL || *request == request_null) {
        *request = NULL;
        *done = 1;
        return 0;
    }
    int status = test_entry(request, done, NULL); // MPI_STATUS_IGNORE
    if (status == 0 && *done) *request = NULL;
    return status;
}

int gpt_mpi_cancel(gpt_mpi_request *request) {
    if (*request == NULL || *request == request_null) return 0;
    int status = cancel_entry(request);
    if (status == 0) status = wait_entry(request, NULL); // a cancelled receive completes at once
    *request = NULL;
    return status;
}

void gpt_mpi_abort(int status) { abort_entry(comm_world, status); }

int gpt_mpi_finalize(void) { return finalize_entry(); }

void gpt_mpi_error_string(int code, char *text, size_t capacity) {
    char message[1024]; // MPI_MAX_ERROR_STRING is 256 in Open MPI
    int length = 0;
    if (error_string_entry(code, message, &length) == 0) {
        snprintf(text, capacity, "%.*s", length, message);
    } else {
        snprintf(text, capacity, "MPI error %d", code);
    }
}
