// How much memory a command may use: a device's own memory (an OpenCL GPU's global memory), else
// what this process may take from the host: the physical memory, lowered by `ulimit -v` / `-d`
// (RLIMIT_AS, RLIMIT_DATA) and a cgroup's memory.max, since an allocation past any of them fails
// (or gets the process killed) however much RAM the machine has. A user's limit (--memory-limit)
// replaces it. `MemoryEstimate.check` compares against it.

import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compute

/// The memory a command may use, and who holds it (for the refusal message).
public struct MemoryBudget: Sendable, Equatable {
    /// The bytes available.
    public let bytes: Int
    /// What the bytes belong to, e.g. "blas (CPU, 2 threads)" or "--memory-limit".
    public let holder: String

    /// A budget of `bytes` that `holder` holds.
    public init(bytes: Int, holder: String) {
        self.bytes = bytes
        self.holder = holder
    }

    /// `limit` when one is given (held by `limitName`), else `backend`'s device memory, else the
    /// host memory this process may use; nil when none of them is known.
    public static func of(_ backend: any Backend, limit: Int? = nil, limitName: String = "--memory-limit")
        -> MemoryBudget?
    {
        if let limit { return MemoryBudget(bytes: limit, holder: limitName) }
        let device = "\(backend.name) (\(backend.deviceDescription))"
        if let capacity = backend.memoryCapacity { return MemoryBudget(bytes: capacity, holder: device) }
        return hostBytes().map { MemoryBudget(bytes: $0, holder: device) }
    }

    /// The host memory this process may allocate: the smallest of physical memory, RLIMIT_AS,
    /// RLIMIT_DATA and the cgroup limit that apply.
    public static func hostBytes() -> Int? {
        var limits: [Int] = []
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0 { limits.append(pages * pageSize) }
        for (index, resource) in resourceLimits.enumerated() {
            var limit = rlimit()
            // RLIM_INFINITY is all ones; anything that large is no limit at all.
            guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { continue }
            // The address-space limit counts what is already mapped (libraries, thread stacks).
            let used = index == 0 ? mappedBytes() : 0
            limits.append(max(0, Int(limit.rlim_cur) - used))
        }
        if let cgroup = cgroupLimit() { limits.append(cgroup) }
        return limits.min()
    }

    /// This process's mapped address space (/proc/self/statm's first field, in pages); 0 where
    /// it cannot be read.
    private static func mappedBytes() -> Int {
        guard let data = FileManager.default.contents(atPath: "/proc/self/statm"),
              let pages = String(decoding: data, as: UTF8.self).split(separator: " ").first.flatMap({ Int($0) })
        else { return 0 }
        return pages * max(1, sysconf(Int32(_SC_PAGESIZE)))
    }

    /// cgroup v2 `memory.max` (or v1 `memory.limit_in_bytes`) of this process's group, when set.
    private static func cgroupLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            // "max" (no limit) does not parse as a number.
            guard let data = FileManager.default.contents(atPath: path),
                  let value = Int(String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }),
                  value > 0, value < Int.max / 2 else { continue }
            return value
        }
        return nil
    }

    #if canImport(Glibc)
    private static let resourceLimits = [RLIMIT_AS, RLIMIT_DATA].map { __rlimit_resource_t($0.rawValue) }
    #else
    private static let resourceLimits = [RLIMIT_AS, RLIMIT_DATA]
    #endif
}

/// An estimate above its budget: what was needed, and what the budget holds.
public struct MemoryError: Error, CustomStringConvertible, Equatable {
    /// The estimate's total.
    public let needed: Int
    /// What it was checked against.
    public let budget: MemoryBudget

    public var description: String {
        "needs about \(MemoryEstimate.format(needed)) but \(budget.holder) holds \(MemoryEstimate.format(budget.bytes))"
    }
}
