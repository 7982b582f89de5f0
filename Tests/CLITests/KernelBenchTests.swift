// `gpt bench --op matmul|attention|attention-backward --shape ...` as a subprocess: tiny shapes on the
// reference backend (FLOP counts, the wall/events/check lines and the machine-readable `result` line
// agreeing with each other), its usage errors (exit 64, one line), and one GPU-only case that is
// skipped, not failed, where no OpenCL GPU device is present.

import Foundation
import Testing

@Suite struct KernelBenchTests {
    /// `key=value` fields of the `result` line.
    func resultFields(_ text: String) -> [String: String] {
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("result ") }) else { return [:] }
        var fields: [String: String] = [:]
        for part in line.split(separator: " ").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }

    @Test(arguments: [
        // op, shape, FLOPs per call (2·M·N·K; 4·B·NH·T²·hs/2; 3.5× that + 2·B·NH·T·hs), as printed, the shape line.
        ("matmul", "5,7,3", 210, "210", "M=5 N=7 K=3"),
        ("attention", "1,2,8,4", 1024, "1,024", "B=1 NH=2 T=8 hs=4"),
        ("attention-backward", "2,2,8,4", 7424, "7,424", "B=2 NH=2 T=8 hs=4"),
    ])
    func benchTimesOneKernelAndChecksItsOutput(op: String, shape: String, flops: Int, printed: String,
                                               shapeLine: String) throws {
        let run = try CLI.run(["bench", "--op", op, "--shape", shape, "--backend", "reference", "--repeat", "4"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        #expect(run.stdout.contains("op: \(op)  shape: \(shapeLine)\n"), "\(run.stdout)")
        #expect(run.stdout.contains(" = \(printed)\n"), "\(run.stdout)")
        #expect(run.stdout.contains("calls: 1 warm-up + 4 timed"), "\(run.stdout)")
        #expect(run.stdout.contains("\nwall:   best "), "\(run.stdout)")
        // The reference backend records one profiler event per op: the events line is there too.
        #expect(run.stdout.contains("\nevents: best "), "\(run.stdout)")
        #expect(run.stdout.contains(" ok\n"), "\(run.stdout)")

        let fields = resultFields(run.stdout)
        #expect(fields["op"] == op && fields["shape"] == shape && fields["backend"] == "reference", "\(fields)")
        #expect(fields["check"] == "ok", "\(fields)")
        let best = try #require(fields["best_ms"].flatMap(Double.init))
        let median = try #require(fields["median_ms"].flatMap(Double.init))
        let bestRate = try #require(fields["best_gflops"].flatMap(Double.init))
        let medianRate = try #require(fields["median_gflops"].flatMap(Double.init))
        #expect(best > 0 && best <= median, "\(fields)")
        #expect(bestRate >= medianRate, "\(fields)")
        // GFLOP/s = FLOPs / ms / 1e6, to the printed precision (4 decimals of ms, 1 of GFLOP/s).
        let implied = Double(flops) / best / 1e6
        #expect(abs(implied - bestRate) <= 0.05 + implied * (0.00005 / best + 1e-3), "\(fields)")
        #expect(fields["event_best_ms"].flatMap(Double.init) != nil, "\(fields)")
    }

    @Test(arguments: [("attention", "1,4,8,4", "2"), ("attention-backward", "2,4,8,4", "1")])
    func groupedQueryBenchKeepsTheFLOPsAndChecksTheSharedHeads(op: String, shape: String, kvHeads: String) throws {
        func bench(_ extra: [String]) throws -> Run {
            try CLI.run(["bench", "--op", op, "--shape", shape, "--backend", "reference", "--repeat", "2"] + extra)
        }
        let grouped = try bench(["--kv-heads", kvHeads]), ungrouped = try bench([])
        #expect(grouped.status == 0 && ungrouped.status == 0, "\(grouped.stderr) \(ungrouped.stderr)")
        let d = shape.split(separator: ",")
        #expect(grouped.stdout.contains("shape: B=\(d[0]) NH=\(d[1]) KVH=\(kvHeads) T=\(d[2]) hs=\(d[3])\n"),
                "\(grouped.stdout)")
        // Every query head still computes its own products: the FLOP count does not depend on KVH.
        func flopsLine(_ text: String) -> Substring? {
            text.split(separator: "\n").first { $0.hasPrefix("FLOPs per call") }
        }
        #expect(flopsLine(grouped.stdout) != nil && flopsLine(grouped.stdout) == flopsLine(ungrouped.stdout))
        let fields = resultFields(grouped.stdout)
        #expect(fields["kv_heads"] == kvHeads && fields["check"] == "ok", "\(fields)")
        #expect(resultFields(ungrouped.stdout)["kv_heads"] == String(d[1]))
    }

    @Test func benchRunsEveryCallItIsAskedFor() throws {
        // --repeat 1: the median is the one call, so best and median agree exactly.
        let run = try CLI.run(["bench", "--op", "matmul", "--shape", "3,4,5", "--backend", "reference", "--repeat", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let fields = resultFields(run.stdout)
        #expect(fields["best_ms"] != nil && fields["best_ms"] == fields["median_ms"], "\(fields)")
        #expect(run.stdout.contains("calls: 1 warm-up + 1 timed"), "\(run.stdout)")
    }

    @Test(arguments: [
        (["--op", "conv", "--shape", "1,1,1"], "--op expects one of matmul, attention, attention-backward, got 'conv'"),
        (["--op", "matmul"], "--op matmul needs --shape M,N,K"),
        (["--op", "attention", "--shape", "1,2,8"], "--shape for --op attention expects B,NH,T,hs (integers), got '1,2,8'"),
        (["--op", "matmul", "--shape", "4,x,4"], "--shape for --op matmul expects M,N,K (integers), got '4,x,4'"),
        (["--op", "matmul", "--shape", "4,0,4"], "--shape values must be in 1...2147483647, got '4,0,4'"),
        (["--shape", "4,4,4"], "--shape needs --op"),
        (["--op", "matmul", "--shape", "4,4,4", "--repeat", "0"], "--repeat must be at least 1, got 0"),
        (["--op", "matmul", "--shape", "4,4,4", "--compare", "reference"],
         "--compare does not apply to --op (run one backend at a time)"),
        (["--op", "attention", "--shape", "1,4,8,4", "--kv-heads", "3"],
         "--kv-heads 3 must divide NH (4): each KV head serves a whole group"),
        (["--op", "attention", "--shape", "1,4,8,4", "--kv-heads", "0"], "--kv-heads must be at least 1, got 0"),
        (["--op", "matmul", "--shape", "4,4,4", "--kv-heads", "1"],
         "--kv-heads applies to --op attention and attention-backward"),
        (["--kv-heads", "2"], "--kv-heads needs --op attention or attention-backward"),
    ])
    func badKernelFlagsAreOneLineUsageErrors(arguments: [String], message: String) throws {
        let run = try CLI.run(["bench", "--backend", "reference"] + arguments)
        #expect(run.status == 64, "\(run.stdout) \(run.stderr)")
        #expect(run.stderrLines == ["gpt bench: \(message) (see gpt bench --help)"], "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    /// Whether `gpt backends` lists an available OpenCL device of type GPU (the device line names
    /// the type: "(vendor, GPU, OpenCL ...)"). PoCL reports CPU.
    static let openCLGPUPresent: Bool = {
        guard let run = try? CLI.run(["backends"]), run.status == 0 else { return false }
        let lines = run.stdout.split(separator: "\n")
        guard let index = lines.firstIndex(where: { $0.hasPrefix("opencl ") && $0.contains("available") }),
              !lines[index].contains("unavailable"), index + 1 < lines.count else { return false }
        return lines[index + 1].contains(", GPU,")
    }()

    /// At sizes only a GPU runs in test time: SGEMM with edges off the tile sizes and attention at the
    /// suite's head shape still pass the host check. Skipped without an OpenCL GPU.
    @Test(.enabled(if: openCLGPUPresent, "needs an OpenCL GPU device"),
          arguments: [("matmul", "2047,2049,1023"), ("attention", "2,12,1024,64"), ("attention-backward", "2,12,1024,64")])
    func gpuKernelsPassTheirCheckAtScale(op: String, shape: String) throws {
        let run = try CLI.run(["bench", "--op", op, "--shape", shape, "--backend", "opencl", "--repeat", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(resultFields(run.stdout)["check"] == "ok", "\(run.stdout)")
    }
}
