/// The padding family's keyword table: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
/// CircularPad 1d-3d, with `torch.nn`'s signatures (`ConstantPad2d(padding, value)`, the others
/// `(padding)`).
///
/// `padding` is an int (the same amount on both sides of every padded dim) or a tuple in
/// `F.pad`'s order: `(left, right, top, bottom, front, back)`, last dim first. As in PyTorch a
/// tuple may pad fewer or more dims than the layer's name says; its length must be even.
enum PadLayers {
    static let specs: [LayerSpec] = (1...3).flatMap { rank in
        [("ZeroPad", PadAttributes.Mode.constant), ("ConstantPad", .constant), ("ReflectionPad", .reflect),
         ("ReplicationPad", .replicate), ("CircularPad", .circular)].map { spec($0.0, $0.1, rank) }
    }

    private static func spec(_ family: String, _ mode: PadAttributes.Mode, _ rank: Int) -> LayerSpec {
        let takesValue = family == "ConstantPad"
        return LayerSpec(
            name: "\(family)\(rank)d", inputCount: 1,
            parameters: ["padding"] + (takesValue ? ["value"] : []), required: ["padding"] + (takesValue ? ["value"] : [])
        ) { args throws(ConvRTError) in
            let (begin, end) = try padding(args, rank: rank)
            let value = takesValue ? try args.number("value")?.value ?? 0 : 0
            return .pad(PadAttributes(mode: mode, begin: begin, end: end, value: Float(value)))
        }
    }

    /// `(begin, end)` per padded dim, outermost first, from F.pad's last-dim-first pairs.
    private static func padding(_ args: LayerArguments, rank: Int) throws(ConvRTError) -> (begin: [Int], end: [Int]) {
        guard let given = args["padding"] else { throw args.missing("padding") }
        var list = try args.ints("padding", given)
        if case .integer(let v) = given.value { list = Array(repeating: v, count: 2 * rank) }
        guard list.count % 2 == 0 else { throw ConvRTError("Padding length must be divisible by 2", at: given.location) }
        let pairs = stride(from: 0, to: list.count, by: 2).map { (list[$0], list[$0 + 1]) }.reversed()
        return (pairs.map(\.0), pairs.map(\.1))
    }
}
