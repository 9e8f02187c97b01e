/// The normalization family's keyword table: BatchNorm1d/2d/3d and their Lazy forms.
///
/// Signatures are `torch.nn`'s: `BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
/// track_running_stats=True, *, bias=True)`. `momentum` only matters in training; it is
/// type-checked (a number or None) and ignored. Range checks (negative `eps`, ...) are left to
/// shape inference so `.pb` models get them too.
enum NormLayers {
    static let specs: [LayerSpec] = [false, true].flatMap { lazy in
        (1...3).map { rank in batchNorm(rank: rank, lazy: lazy) }
    }

    private static func batchNorm(rank: Int, lazy: Bool) -> LayerSpec {
        let name = (lazy ? "Lazy" : "") + "BatchNorm\(rank)d"
        let rejected = lazy ? ["num_features": "\(name) infers num_features from its input; remove this argument"] : [:]
        return LayerSpec(
            name: name, inputCount: 1,
            parameters: (lazy ? [] : ["num_features"]) + ["eps", "momentum", "affine", "track_running_stats", "bias"],
            required: lazy ? [] : ["num_features"], rejected: rejected
        ) { args throws(ConvRTError) in
            let attributes = BatchNormAttributes(
                spatialRank: rank, isLazy: lazy,
                numFeatures: lazy ? nil : try args.requiredInt("num_features"),
                eps: try args.number("eps")?.value ?? 1e-5,
                affine: try args.bool("affine") ?? true,
                trackRunningStats: try args.bool("track_running_stats") ?? true)
            _ = try args.optionalNumber("momentum")
            try checkBias(args, affine: attributes.affine)
            return .batchNorm(attributes)
        }
    }

    /// `bias=False` (a learnable weight without a bias) has no place in the IR yet; `bias=True` is
    /// the default, and PyTorch ignores `bias` when `affine=False`.
    private static func checkBias(_ args: LayerArguments, affine: Bool) throws(ConvRTError) {
        guard try args.bool("bias") == false, affine, let given = args["bias"] else { return }
        throw ConvRTError(
            "bias=False with affine=True is not supported; use affine=False, or keep the bias (zeros)",
            at: given.location)
    }
}
