// Open MPI, loaded at run time on first use instead of being linked (CMPI/MPILoader.c): a machine
// without libmpi.so.40 still runs `gpt`, and only distributed training reports itself unavailable,
// naming the packages to install. $GPT_MPI_LIBRARY names another libmpi file to open instead.

import CMPI
import Distributed

#if canImport(Glibc)
import Glibc
#endif

/// The MPI library as loaded into this process.
public enum MPILibrary {
    /// The library's own description ("Open MPI v4.1.4, package: Debian OpenMPI, ..."), or why it
    /// could not be loaded. Evaluated once, on first use.
    public static let loaded: Result<String, CollectiveError> = {
        var message = [CChar](repeating: 0, count: 512)
        guard gpt_mpi_load(getenv("GPT_MPI_LIBRARY"), &message, message.count) != 0 else {
            let reason = cText(message)
            return .failure(CollectiveError(operation: "MPI", reason: "\(reason); install Open MPI "
                + "(apt-get install openmpi-bin libopenmpi3) for distributed training"))
        }
        var version = [CChar](repeating: 0, count: 1024)
        guard gpt_mpi_library_version(&version, version.count) == 0 else { return .success("MPI (unknown version)") }
        return .success(cText(version))
    }()

    /// The first part of the library's description: "Open MPI v4.1.4".
    public static var versionSummary: String? {
        guard case let .success(text) = loaded else { return nil }
        let first = text.split(whereSeparator: { $0 == "," || $0 == "\n" }).first ?? Substring(text)
        return String(first.drop(while: { $0 == " " }))
    }

    /// Throws unless the library is loaded.
    static func require() throws {
        if case let .failure(error) = loaded { throw error }
    }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
