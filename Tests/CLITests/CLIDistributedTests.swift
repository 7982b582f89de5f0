// `mpirun -n 2 gpt train` as a tool: two ranks at a global batch train what one process trains at
// that batch (per-step losses and checkpoints agree to float rounding, with dropout and gradient
// accumulation on, with and without ZeRO-1, on blas and on opencl), the checkpoint resumes in one
// process and on two ranks, killing or stopping a rank ends the other in bounded time with a line
// naming it, and `gpt profile` reports the communication. Skipped where mpirun or libmpi is missing.
// These are the small versions of the acceptance runs (char-baby for 50 steps: docs/SCALING.md).

import Foundation
import Testing

@Suite(.enabled(if: MPI.isAvailable, "mpirun or libmpi.so.40 missing: apt-get install openmpi-bin libopenmpi3"),
       .serialized)
struct CLIDistributedTests: CLISuite {
    /// The CLI tests' tiny model without biases: a key projection's bias has a zero gradient in exact
    /// arithmetic (softmax ignores a shift shared by all keys), so its AdamW update is rounding
    /// noise scaled up to the learning rate, which no two summation orders share.
    static let config: String = {
        let path = Fixture.shared.directory + "/tiny-no-bias.json"
        let text = try! String(contentsOfFile: Fixture.shared.tinyConfig, encoding: .utf8)
        try! text.replacingOccurrences(of: #""bias": true"#, with: #""bias": false"#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// A global batch of 4 in 2 micro-batches, dropout on: every random stream takes part.
    static func trainArguments(out: String, steps: Int = 12, backend: String = "blas") -> [String] {
        let fixture = Fixture.shared
        return ["train", "--data", fixture.corpus, "--config", config, "--backend", backend,
                "--threads", "1", "--steps", "\(steps)", "--batch-size", "4", "--grad-accum", "2", "--dropout", "0.1",
                "--lr", "1e-2", "--warmup", "2", "--eval-interval", "6", "--eval-batches", "2", "--log-every", "6",
                "--bucket-size", "4K", "--out", out]
    }

    static let openCLAvailable: Bool = {
        (try? CLI.run(["backends"]))?.stdout.split(separator: "\n")
            .contains { $0.hasPrefix("opencl") && $0.contains(" available ") } ?? false
    }()

    @Test("2 ranks at global batch 4 equal 1 process at batch 4", arguments: ["0", "1"])
    func twoRanksEqualOneProcess(zero: String) throws {
        let directory = try Self.scratch("mpi-equal")
        let single = directory + "/single", parallel = directory + "/parallel"
        let one = try CLI.run(Self.trainArguments(out: single))
        #expect(one.status == 0, "\(one.stderr)")
        let two = try MPI.run(ranks: 2, Self.trainArguments(out: parallel) + ["--zero", zero])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("distributed: Open MPI") && two.stdout.contains("each rank runs 2 of the 4 sequences"))
        #expect(two.stdout.components(separatedBy: "done: 12 steps").count == 2, "only rank 0 prints:\n\(two.stdout)")
        let context = "--zero \(zero)"
        let lossDifference = MPI.largestRelativeDifference(try MPI.losses(parallel), try MPI.losses(single))
        #expect(lossDifference <= 1e-5, "\(context): per-step losses differ by \(lossDifference) relative")
        let weights = try MPI.largestDifference("model.safetensors", parallel, single)
        let moments = try MPI.largestDifference("optimizer.safetensors", parallel, single)
        #expect(weights <= 1e-5 && moments <= 1e-6, "\(context): checkpoints differ by \(weights) (weights), \(moments) (moments)")
    }

    @Test(.enabled(if: openCLAvailable, "no OpenCL device"))
    func openCLTwoRanksEqualOneProcess() throws {
        let directory = try Self.scratch("mpi-opencl")
        let single = directory + "/single", parallel = directory + "/parallel"
        let arguments = { (out: String) in Self.trainArguments(out: out, steps: 3, backend: "opencl") }
        let one = try CLI.run(arguments(single))
        #expect(one.status == 0, "\(one.stderr)")
        let two = try MPI.run(ranks: 2, arguments(parallel) + ["--zero", "1"])
        #expect(two.status == 0, "\(two.stderr)")
        let lossDifference = MPI.largestRelativeDifference(try MPI.losses(parallel), try MPI.losses(single))
        #expect(lossDifference <= 1e-5, "opencl: per-step losses differ by \(lossDifference) relative")
        #expect(try MPI.largestDifference("model.safetensors", parallel, single) <= 1e-5)
    }

    @Test func killingARankEndsTheOtherAndTheLastCheckpointResumes() throws {
        let directory = try Self.scratch("mpi-kill")
        let straight = directory + "/straight", killed = directory + "/killed"
        // The schedule spans --steps: every run here has the same, and stops early.
        #expect(try CLI.run(Self.trainArguments(out: straight, steps: 100_000) + ["--stop-after", "16"]).status == 0)
        let run = try BackgroundRun(ranks: 2, Self.trainArguments(out: killed, steps: 100_000)
                                        + ["--checkpoint-interval", "4"], directory: directory)
        let checkpointed = run.wait(upTo: 120) { FileManager.default.fileExists(atPath: killed + "/training_state.json") }
        #expect(checkpointed, "no checkpoint within 120 s: \(run.stderr)")
        let rank1 = try #require(run.pid(ofRank: 1), "rank 1 not found")
        kill(rank1, SIGKILL)
        let seconds = run.secondsToExit(upTo: 60)
        #expect(seconds != nil, "the other rank still runs 60 s after rank 1 was killed")
        #expect(run.process.terminationStatus != 0 && run.stderr.contains("rank 1"), "\(run.stderr)")

        // The last checkpoint is intact: it resumes in one process and on two ranks, and both
        // continue the uninterrupted run.
        let copy = directory + "/killed-copy"
        try FileManager.default.copyItem(atPath: killed, toPath: copy)
        let resume = { (out: String) in ["train", "--data", Fixture.shared.corpus, "--resume", out, "--stop-after", "16",
                                         "--threads", "1"] }
        let inOne = try CLI.run(resume(killed))
        #expect(inOne.status == 0, "\(inOne.stderr)")
        let onTwo = try MPI.run(ranks: 2, resume(copy))
        #expect(onTwo.status == 0, "\(onTwo.stderr)")
        let expected = try MPI.losses(straight)
        for out in [killed, copy] {
            let difference = MPI.largestRelativeDifference(try MPI.losses(out), expected)
            #expect(difference <= 1e-5, "\(out): resumed losses differ from the uninterrupted run's by \(difference)")
        }
    }

    @Test func aStoppedRankIsNamedWhenTheCollectiveTimesOut() throws {
        let directory = try Self.scratch("mpi-stop")
        let out = directory + "/run"
        let run = try BackgroundRun(ranks: 2, Self.trainArguments(out: out, steps: 100_000)
                                        + ["--checkpoint-interval", "4", "--collective-timeout", "5"], directory: directory)
        #expect(run.wait(upTo: 120) { FileManager.default.fileExists(atPath: out + "/training_state.json") })
        let rank1 = try #require(run.pid(ofRank: 1), "rank 1 not found")
        kill(rank1, SIGSTOP)
        defer { kill(rank1, SIGKILL) }
        let seconds = run.secondsToExit(upTo: 60)
        #expect(seconds != nil, "rank 0 still runs 60 s after rank 1 stopped")
        let line = run.stderr.split(separator: "\n").first { $0.hasPrefix("MPI rank 0: ") } ?? ""
        #expect(line.contains("did not complete within 5 s") && line.contains("rank 1 did not answer"), "\(run.stderr)")
    }

    @Test func aGlobalBatchTheRanksCannotSplitIsOneLinePerRank() throws {
        let out = try Self.scratch("mpi-indivisible") + "/run"
        let run = try MPI.run(ranks: 3, Self.trainArguments(out: out))
        #expect(run.status != 0)
        // Every rank finds it; the first to abort may end the others before they print.
        let lines = run.stderr.split(separator: "\n").filter {
            $0.hasPrefix("gpt train: rank ") && $0.hasSuffix(": --batch-size 4 is the global batch and must be a multiple of the 3 ranks")
        }
        #expect(!lines.isEmpty, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func profileReportsTheHiddenCommunication() throws {
        let run = try MPI.run(ranks: 2, ["profile", "--config", Self.config, "--backend", "blas",
                                         "--threads", "1", "--batch-size", "4", "--steps", "2", "--bucket-size", "4K"])
        #expect(run.status == 0, "\(run.stderr)")
        let line = run.stdout.split(separator: "\n").first { $0.hasPrefix("communication (rank 0 of 2)") } ?? ""
        #expect(line.contains("in flight") && line.contains("waited") && line.contains("% hidden"), "\(run.stdout)")
    }
}

/// What needs no mpirun: asking for MPI outside it is one line.
@Suite struct CLIDistributedErrorTests {
    @Test func distributedMPIOutsideMpirunIsOneLine() throws {
        let run = try CLI.run(["train", "--data", Fixture.shared.corpus, "--config", Fixture.shared.tinyConfig,
                               "--backend", "reference", "--steps", "1", "--distributed", "mpi"])
        #expect(run.status == 1 && run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("--distributed mpi: MPI sees one rank"), "\(run.stderr)")
    }
}
