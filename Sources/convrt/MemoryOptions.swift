import ArgumentParser
import ConvRT

/// `--max-memory`, shared by every command that loads a model.
struct MemoryOptions: ParsableArguments {
    @Option(name: .customLong("max-memory"),
            help: ArgumentHelp("Refuse models, weights and inputs that would need more memory than this, before allocating: bytes, or with a K, M, G or T suffix (powers of 1024), e.g. 4G. Default: half of physical memory (\(MemoryLimit.format(MemoryLimit.defaultBytes)) here).",
                               valueName: "bytes"))
    var maxMemory: String?

    func validate() throws {
        if let maxMemory, MemoryLimit.parseBytes(maxMemory) == nil {
            throw ValidationError("--max-memory expects a size such as 4G, 512M or 1000000, but got '\(maxMemory)'")
        }
    }

    /// The limit, named as the user set it in messages.
    var limit: MemoryLimit {
        guard let maxMemory, let bytes = MemoryLimit.parseBytes(maxMemory) else {
            return MemoryLimit(bytes: MemoryLimit.defaultBytes, name: "the default --max-memory")
        }
        return MemoryLimit(bytes: bytes, name: "--max-memory")
    }
}
