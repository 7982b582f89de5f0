// The system libraries are loaded at run time: without OpenBLAS, the OpenCL loader and MPI, `gpt`
// still starts, lists reference as available and the other two as unavailable with the package to
// install (and distributed training as unavailable, with Open MPI's packages), and trains on the
// reference backend. The libraries are "missing" by pointing the override variables at a file
// that does not exist.

import Foundation
import Testing

@Suite("CLI without OpenBLAS and OpenCL")
struct CLISystemLibraryTests {
    let withoutLibraries = ["GPT_OPENBLAS_LIBRARY": "/nonexistent/libopenblas.so.0",
                            "GPT_OPENCL_LIBRARY": "/nonexistent/libOpenCL.so.1",
                            "GPT_MPI_LIBRARY": "/nonexistent/libmpi.so.40"]

    @Test func backendsSaysWhatToInstall() throws {
        let run = try CLI.run(["backends"], environment: withoutLibraries)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("reference") && $0.contains(" available ") })
        #expect(lines.contains { $0.hasPrefix("blas") && $0.contains("unavailable") })
        #expect(lines.contains { $0.hasPrefix("opencl") && $0.contains("unavailable") })
        #expect(run.stdout.contains("apt-get install libopenblas0"))
        #expect(run.stdout.contains("apt-get install ocl-icd-libopencl1"))
        #expect(run.stdout.contains("auto -> reference"))
        #expect(lines.contains { $0.hasPrefix("distributed training (MPI): unavailable") }, "\(run.stdout)")
        #expect(run.stdout.contains("apt-get install openmpi-bin libopenmpi3"))
    }

    @Test func trainsOnTheReferenceBackend() throws {
        let fixture = Fixture.shared
        let out = fixture.directory + "/no-libraries-\(UUID().uuidString)"
        let run = try CLI.run(["train", "--data", fixture.corpus, "--config", fixture.tinyConfig,
                               "--backend", "reference", "--steps", "2", "--batch-size", "2",
                               "--eval-batches", "1", "--out", out], environment: withoutLibraries)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    @Test func anUnavailableBackendIsOneLine() throws {
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", Fixture.shared.tinyConfig,
                               "--backend", "blas", "--steps", "1"], environment: withoutLibraries)
        #expect(run.status == 1)
        #expect(run.stderrLines.count == 1)
        #expect(run.stderr.contains("libopenblas0"))
    }
}
