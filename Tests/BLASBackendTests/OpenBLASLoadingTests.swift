// OpenBLAS bound at run time: it loads with the kernel family chosen for this CPU (unless the user
// chose), says who chose, and OpenBLAS's own choice can be read for the override note.

@testable import BLASBackend
import Testing

private let openBLASPresent = (try? OpenBLASLibrary.require()) != nil

@Suite("OpenBLAS loaded at run time")
struct OpenBLASLoadingTests {
    @Test("loads with the family chosen from this CPU's features", .enabled(if: openBLASPresent))
    func loadsWithTheChosenFamily() throws {
        let status = try OpenBLASLibrary.require()
        #expect(!status.version.isEmpty && status.version.first?.isNumber == true)
        if case let .chosen(choice) = status.selection {
            #expect(choice == OpenBLASKernelFamily.choose(for: .current))
            #expect(status.kernelFamily.lowercased() == choice.family.lowercased(),
                    "OpenBLAS \(status.version) runs \(status.kernelFamily), not the \(choice.family) asked for")
        }
        let backend = try BLASBackend(threads: 1)
        #expect(backend.deviceDescription.contains(status.kernelFamily))
    }

    @Test("OpenBLAS's own choice is read from a second process", .enabled(if: openBLASPresent))
    func ownChoice() throws {
        let status = try OpenBLASLibrary.require()
        let own = try #require(OpenBLASOwnChoice.family(libraryPath: status.path))
        #expect(!own.isEmpty && !own.contains(" "))
    }

    @Test("the summary says who chose the kernels")
    func summary() {
        func status(_ selection: OpenBLASStatus.Selection, running family: String) -> String {
            OpenBLASStatus(configuration: "OpenBLAS 0.3.21", version: "0.3.21", kernelFamily: family,
                           selection: selection, path: "libopenblas.so.0").summary
        }
        let avx512 = KernelFamilyChoice(family: "SkylakeX", reason: "AVX-512")
        #expect(status(.chosen(avx512), running: "SkylakeX")
            == "OpenBLAS 0.3.21, SkylakeX kernels (chosen for AVX-512)")
        #expect(status(.chosen(avx512), running: "Haswell")
            == "OpenBLAS 0.3.21, Haswell kernels (asked for SkylakeX (AVX-512), which this OpenBLAS does not have)")
        #expect(status(.user("Zen"), running: "Zen")
            == "OpenBLAS 0.3.21, Zen kernels (OPENBLAS_CORETYPE=Zen set by the user)")
        #expect(status(.library, running: "Prescott") == "OpenBLAS 0.3.21, Prescott kernels (OpenBLAS's own choice)")
    }
}
