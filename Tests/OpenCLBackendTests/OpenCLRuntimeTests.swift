// Tests of the OpenCL runtime: status names, device selection, kernel sources from a folder,
// build errors carrying the build log, the on-disk program cache (including a corrupt entry),
// memory-op errors and kernel profiling. Runs on any OpenCL device (PoCL in CI); disabled where
// there is none.

import Compute
import Foundation
@testable import OpenCLBackend
import Testing

let openCLAvailable = OpenCLBackend.plugin.probe().isAvailable

/// A fresh, empty temporary folder.
func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "opencl-tests-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A folder holding every Kernels/ file (the embedded copies), with `overrides` (file name -> text)
/// written over them.
func kernelFolder(_ name: String, overrides: [String: String] = [:]) throws -> String {
    let folder = try temporaryDirectory(name)
    var files = Dictionary(uniqueKeysWithValues: KernelProgram.allCases.map { ("\($0.rawValue).cl", $0.embeddedText) })
    files[KernelProgram.headerFiles[0]] = KernelProgram.embeddedHeader
    for (file, text) in files.merging(overrides, uniquingKeysWith: { $1 }) {
        try text.write(toFile: folder + "/" + file, atomically: true, encoding: .utf8)
    }
    return folder
}

/// A backend on the default device whose disk cache is `cache` (nil: none).
func makeBackend(cache: String? = nil) throws -> OpenCLBackend {
    let backend = try OpenCLBackend()
    backend.programCacheDirectory = cache
    backend.kernelDirectory = nil
    return backend
}

@Suite("OpenCL status names and cache keys")
struct OpenCLStatusTests {
    @Test func statusNamesComeFromTheHeader() {
        #expect(OpenCLStatus.name(0) == "CL_SUCCESS")
        #expect(OpenCLStatus.name(-54) == "CL_INVALID_WORK_GROUP_SIZE")
        #expect(OpenCLStatus.name(-11) == "CL_BUILD_PROGRAM_FAILURE")
        #expect(OpenCLStatus.name(-9999) == "status -9999")
    }

    @Test func checkThrowsTheNamedStatus() {
        #expect(throws: BackendError.openCL(call: "clFinish", status: "CL_INVALID_COMMAND_QUEUE", context: "k")) {
            try check(-36, call: "clFinish", context: "k")
        }
        #expect(throws: Never.self) { try check(0, call: "clFinish") }
    }

    @Test func cacheKeyIsFNV1aWithSeparators() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; the key then folds in one 0 separator byte.
        #expect(OpenCLBackend.fnv1a64(["a"]) == 0xaf63_dc4c_8601_ec8c &* 0x0000_0100_0000_01b3)
        #expect(OpenCLBackend.fnv1a64(["ab", "c"]) != OpenCLBackend.fnv1a64(["a", "bc"]))
    }

    @Test func buildOptionsAreSortedDefines() {
        #expect(OpenCLBackend.buildOptions(["TILE_N": "64", "TILE_M": "32"]) == "-cl-std=CL1.2 -D TILE_M=32 -D TILE_N=64")
    }
}

@Suite("OpenCL runtime", .enabled(if: openCLAvailable, "no OpenCL device"))
struct OpenCLRuntimeTests {
    @Test func devicesAreListedAndSelectable() throws {
        let devices = try OpenCLDiscovery.devices()
        #expect(!devices.isEmpty)
        let first = try OpenCLDiscovery.select("0", from: devices)
        #expect(first.info.name == devices[0].info.name)
        let byName = try OpenCLDiscovery.select(String(devices[0].info.name.prefix(4)).uppercased(), from: devices)
        #expect(byName.info.name.lowercased().hasPrefix(devices[0].info.name.prefix(4).lowercased()))
        #expect(devices[0].info.computeUnits > 0 && devices[0].info.globalMemoryBytes > 0)
        // With no device named, a rank's ordinal walks the preferred devices (GPUs, else all) round robin.
        let gpus = devices.filter(\.info.isGPU), preferred = gpus.isEmpty ? devices : gpus
        for ordinal in 0..<(2 * preferred.count + 1) {
            let taken = try OpenCLDiscovery.select(nil, ordinal: ordinal, from: devices)
            #expect(taken.info.name == preferred[ordinal % preferred.count].info.name, "ordinal \(ordinal)")
        }
        guard case .available(let listed) = OpenCLBackend.plugin.probe() else {
            Issue.record("probe says unavailable although devices exist")
            return
        }
        #expect(listed.count == devices.count)
    }

    @Test(arguments: ["99", "no-such-device-xyz"])
    func badDeviceSelectorsAreOneLineErrors(_ selector: String) throws {
        do {
            _ = try OpenCLBackend(options: BackendOptions(device: selector))
            Issue.record("device '\(selector)' was accepted")
        } catch let error as BackendError {
            guard case .invalidArgument(_, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(reason.contains("devices: 0:"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func kernelsLoadFromTheKernelDirectory() throws {
        // The same scale kernel, but doubling: proves the folder's file is the one compiled.
        let source = """
            __kernel void elementwise_scale(__global float* x, const int x_off, const float alpha, const int n) {
                const int i = get_global_id(0);
                if (i < n) x[x_off + i] *= 2.0f * alpha;
            }
            """
        let folder = try kernelFolder("kernels", overrides: ["elementwise.cl": source])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let backend = try makeBackend()
        backend.kernelDirectory = folder
        let x = try backend.makeBuffer([1, 2, 3] as [Float])
        try backend.scale(x.all, by: 3)
        #expect(try backend.download(x.all) == [6, 12, 18])
    }

    @Test func aKernelThatFailsToCompileCarriesItsBuildLog() throws {
        let broken = "__kernel void elementwise_scale(__global float* x) { x[0] = undefined_name; }"
        let folder = try kernelFolder("broken", overrides: ["elementwise.cl": broken])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let backend = try makeBackend()
        backend.kernelDirectory = folder
        let x = try backend.makeBuffer([1] as [Float])
        do {
            try backend.scale(x.all, by: 2)
            Issue.record("a broken kernel built")
        } catch let error as BackendError {
            guard case .kernelBuild(let kernel, let log) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(kernel.hasPrefix("elementwise.cl"))
            #expect(log.contains("undefined_name"))
            // The header sits in front, but `#line 1` keeps the program's own line numbers.
            #expect(log.contains(":1:"), "\(log)")
        }
    }

    @Test func aKernelFolderLackingFilesNamesThemAll() throws {
        let folder = try kernelFolder("partial")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/rope.cl")
        try FileManager.default.removeItem(atPath: folder + "/common.clh")
        #expect(OpenCLBackend.missingKernelFiles(in: folder) == ["common.clh", "rope.cl"])
        let backend = try makeBackend()
        backend.kernelDirectory = folder
        let x = try backend.makeBuffer([1] as [Float])
        let error = #expect(throws: BackendError.self) { try backend.scale(x.all, by: 2) }
        #expect(error?.description.contains("lacks common.clh, rope.cl") == true, "\(String(describing: error))")
        #expect(error.map { !$0.description.contains("\n") } == true)
    }

    @Test func everyKernelFileIsAProgramWithTheHeaderInFront() throws {
        let kernels = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Kernels").standardized.path
        let files = try FileManager.default.contentsOfDirectory(atPath: kernels)
        #expect(Set(files.filter { $0.hasSuffix(".cl") }) == Set(KernelProgram.allCases.map { "\($0.rawValue).cl" }))
        #expect(KernelProgram.headerFiles == files.filter { $0.hasSuffix(".clh") }.sorted())
        #expect(OpenCLBackend.missingKernelFiles(in: kernels).isEmpty, "Kernels/ is itself a complete kernel folder")
        let backend = try makeBackend()
        let source = try backend.source(.norm)
        #expect(source.hasPrefix(KernelProgram.embeddedHeader + "\n#line 1\n"))
        #expect(source.contains("inline float group_sum") && !KernelProgram.norm.embeddedText.contains("inline float group_sum"))
    }

    @Test func programsAreCachedOnDiskAndCorruptEntriesRebuilt() throws {
        let cache = try temporaryDirectory("cache")
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let first = try makeBackend(cache: cache)
        let x = try first.makeBuffer([1, -2] as [Float])
        try first.scale(x.all, by: 4)
        #expect(try first.download(x.all) == [4, -8])
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasPrefix("elementwise-") }
        #expect(entries.count == 1)
        guard let entry = entries.first else { return }
        try Data("not a program binary".utf8).write(to: URL(fileURLWithPath: cache + "/" + entry))
        let second = try makeBackend(cache: cache)
        let y = try second.makeBuffer([1, -2] as [Float])
        try second.scale(y.all, by: 4)
        #expect(try second.download(y.all) == [4, -8])
        let rewritten = try Data(contentsOf: URL(fileURLWithPath: cache + "/" + entry))
        #expect(rewritten != Data("not a program binary".utf8))
    }

    @Test func memoryOpsRejectForeignAndOversizedBuffers() throws {
        let backend = try makeBackend()
        #expect(throws: BackendError.self) { _ = try backend.allocate(Int.max / 8, .float32) }
        let ints = try backend.makeBuffer([1, 2] as [Int32])
        #expect(throws: BackendError.self) { _ = try backend.download(ints.all) }
        let a = try backend.makeBuffer([1, 2, 3, 4] as [Float])
        #expect(throws: BackendError.self) { try backend.copy(from: a.view(offset: 0, count: 3), to: a.view(offset: 1, count: 3)) }
        try backend.fill(a.view(offset: 1, count: 2), with: 7)
        #expect(try backend.download(a.all) == [1, 7, 7, 4])
    }

    @Test func opsAreProfiledWithTheirKernelsDeviceTimes() throws {
        let backend = try makeBackend()
        let profiler = Profiler()
        backend.profiler = profiler
        let a = try backend.makeBuffer([Float](repeating: 1, count: 6))
        let b = try backend.makeBuffer([Float](repeating: 2, count: 6))
        let c = try backend.allocate(4, .float32)
        try backend.matmul(c: c.all, a: a.all, b: b.all, m: 2, n: 2, k: 3)
        #expect(try backend.download(c.all) == [6, 6, 6, 6])
        // One event per op, named and counted by the contract; the kernels it ran inside it.
        #expect(profiler.events.map(\.name) == ["upload", "upload", "matmul", "download"])
        let matmul = try #require(profiler.events.first { $0.name == "matmul" })
        #expect(matmul.flops == 24 && matmul.shape == "m=2 n=2 k=3 batch=1")
        #expect(matmul.kernels.count == 1 && matmul.kernels[0].name.hasPrefix("matmul_"), "\(matmul.kernels)")
        #expect(matmul.seconds >= 0 && matmul.kernels[0].start == matmul.start)
        #expect(profiler.events.first?.kernels.map(\.name) == ["write_buffer"])
        let starts = profiler.events.map(\.start)
        #expect(starts == starts.sorted())
    }
}
