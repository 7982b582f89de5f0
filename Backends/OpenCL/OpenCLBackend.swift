// Placeholder until the OpenCL backend lands: proves the kernel embedding and the OpenCL link work.
import COpenCL

enum OpenCLPlaceholder {
    static var kernelFiles: [String] { EmbeddedKernels.sources.keys.sorted() }
}
