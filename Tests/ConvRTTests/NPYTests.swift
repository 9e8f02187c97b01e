import Foundation
import Testing
@testable import ConvRT

/// Fixtures come from `Tools/gen_npy_fixtures.py` (numpy); malformed `.npy` inputs are built here.
@Suite struct NPYTests {
    static func fixture(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/npy/\(name)")
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixture(name)))
    }

    static func arange(_ count: Int, shape: [Int]) -> Tensor {
        Tensor(shape: shape, data: (0..<count).map(Float.init))
    }

    /// The message of the ConvRTError `body` throws, or nil if it does not throw one.
    static func errorMessage(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as ConvRTError {
            return error.message
        } catch {
            return "non-ConvRTError: \(error)"
        }
    }

    /// A `.npy` image with the given header text, version and payload.
    static func image(header: String, version: UInt8 = 1, payload: [UInt8] = []) -> [UInt8] {
        let text = Array(header.utf8)
        var bytes = NPYHeader.magic + [version, 0]
        let length = text.count
        bytes += version == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)]
            : [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), 0]
        return bytes + text + payload
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    // MARK: - Reading numpy's files

    @Test(arguments: ["f4_v1.npy", "f4_v2.npy", "f4_v3.npy"])
    func formatVersions(file: String) throws {
        let (tensor, notes) = try NPY.read(contentsOf: Self.fixture(file))
        #expect(tensor == Self.arange(6, shape: [2, 3]))
        #expect(notes.isEmpty)
    }

    @Test func float64IsRoundedToFloat32() throws {
        let (tensor, notes) = try NPY.read(contentsOf: Self.fixture("f8.npy"))
        #expect(tensor == Tensor(shape: [2, 3], data: (0..<6).map { Float(Double($0) * 0.1) }))
        #expect(notes == ["converted float64 to float32 (4 values rounded)"])
    }

    static let halfExpected: [Float] = [
        0, -0.0, 0x1p-24, 1023 * 0x1p-24, 0x1p-14, 1, 65504, .infinity, -.infinity, .nan, 0.333251953125,
    ]

    @Test(arguments: ["f2.npy", "be_f2.npy"])
    func float16IncludingSubnormalsAndSpecials(file: String) throws {
        let (tensor, notes) = try NPY.read(contentsOf: Self.fixture(file))
        #expect(tensor.shape == [11])
        for (i, (actual, expected)) in zip(tensor.data, Self.halfExpected).enumerated() {
            #expect(actual.isNaN ? expected.isNaN : actual.bitPattern == expected.bitPattern, "element \(i)")
        }
        #expect(notes.first == "converted float16 to float32")
        #expect(notes.contains("byte-swapped big-endian data") == file.hasPrefix("be_"))
    }

    #if !(os(macOS) && arch(x86_64))
    @Test func float16ConversionMatchesTheStandardLibraryForEveryBitPattern() {
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = NPYDType.float(fromHalf: bits)
            #expect(actual.isNaN ? expected.isNaN : actual.bitPattern == expected.bitPattern, "bits \(bits)")
        }
    }
    #endif

    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var shape: [Int]
        var values: [Float]
        var notes: [String]
        var testDescription: String { file }
    }

    static let conversions: [Case] = [
        Case(file: "i1.npy", shape: [5], values: [-128, -1, 0, 1, 127], notes: ["converted int8 to float32"]),
        Case(file: "i2.npy", shape: [2], values: [-32768, 32767], notes: ["converted int16 to float32"]),
        Case(file: "i4.npy", shape: [2, 3], values: [-3, -2, -1, 0, 1, 2], notes: ["converted int32 to float32"]),
        Case(file: "i8.npy", shape: [4], values: [-0x1p40, 0x1p53, 0x1p62, -1],
             notes: ["converted int64 to float32 (1 value rounded)"]),
        Case(file: "u1.npy", shape: [3], values: [0, 1, 255], notes: ["converted uint8 to float32"]),
        Case(file: "u2.npy", shape: [1], values: [65535], notes: ["converted uint16 to float32"]),
        Case(file: "u4.npy", shape: [1], values: [0x1p32], notes: ["converted uint32 to float32 (1 value rounded)"]),
        Case(file: "u8.npy", shape: [2], values: [0x1p64, 0], notes: ["converted uint64 to float32 (1 value rounded)"]),
        Case(file: "bool.npy", shape: [4], values: [1, 0, 1, 1], notes: ["converted bool to float32"]),
        Case(file: "be_f4.npy", shape: [2, 3], values: [0, 1, 2, 3, 4, 5], notes: ["byte-swapped big-endian data"]),
        Case(file: "be_f8.npy", shape: [2, 3], values: (0..<6).map { Float(Double($0) * 0.1) },
             notes: ["converted float64 to float32 (4 values rounded)", "byte-swapped big-endian data"]),
        Case(file: "be_i4.npy", shape: [2, 3], values: [-3, -2, -1, 0, 1, 2],
             notes: ["converted int32 to float32", "byte-swapped big-endian data"]),
        Case(file: "fortran_2d.npy", shape: [2, 3], values: (0..<6).map(Float.init),
             notes: ["transposed Fortran-order data to C order"]),
        Case(file: "fortran_3d.npy", shape: [2, 3, 4], values: (0..<24).map(Float.init),
             notes: ["transposed Fortran-order data to C order"]),
        Case(file: "fortran_be_f8_4d.npy", shape: [2, 1, 3, 2], values: (0..<12).map(Float.init),
             notes: ["converted float64 to float32", "byte-swapped big-endian data",
                     "transposed Fortran-order data to C order"]),
        Case(file: "f4_1d.npy", shape: [5], values: (0..<5).map(Float.init), notes: []),
        Case(file: "scalar.npy", shape: [], values: [3.5], notes: []),
        Case(file: "zero_size.npy", shape: [0, 3, 5, 5], values: [], notes: []),
    ]

    @Test(arguments: conversions)
    func convertsToFloat32(_ c: Case) throws {
        let (tensor, notes) = try NPY.read(contentsOf: Self.fixture(c.file))
        #expect(tensor == Tensor(shape: c.shape, data: c.values))
        #expect(notes == c.notes)
    }

    @Test func fortranOrderMatchesANaiveTransposeForManyShapes() {
        let shapes = [[2, 3], [3, 1, 4], [2, 3, 4, 5], [1, 2, 1, 3, 2], [4, 1], [1, 5, 1], [2, 2, 2, 2, 2, 2]]
        for shape in shapes {
            let count = shape.reduce(1, *)
            let fortran = (0..<count).map { Float($0) }
            var expected = [Float](repeating: 0, count: count)
            for c in 0..<count {
                // C-order index -> multi-index -> Fortran offset.
                var rest = c, offset = 0, stride = 1
                var index = [Int](repeating: 0, count: shape.count)
                for k in shape.indices.reversed() { index[k] = rest % shape[k]; rest /= shape[k] }
                for k in shape.indices { offset += index[k] * stride; stride *= shape[k] }
                expected[c] = fortran[offset]
            }
            #expect(NPY.cOrder(fromFortran: fortran, shape: shape) == expected, "\(shape)")
        }
    }

    // MARK: - Writing

    @Test(arguments: ["f4_v1.npy", "f4_1d.npy", "f4_4d.npy", "scalar.npy", "zero_size.npy"])
    func encodeIsByteIdenticalToNumpySave(file: String) throws {
        let original = try Self.bytes(file)
        let (tensor, _) = try NPY.decode(original, name: file)
        #expect([UInt8](NPY.encode(tensor)) == original)
    }

    @Test func roundTripsThroughAFile() throws {
        let shapes: [[Int]] = [[], [1], [7], [2, 3], [0, 4], [1, 3, 5, 5], [2, 1, 2, 3, 2]]
        let directory = FileManager.default.temporaryDirectory
        for shape in shapes {
            let count = shape.reduce(1, *)
            let tensor = Tensor(shape: shape, data: (0..<count).map { Float($0) * -0.37 + .ulpOfOne })
            let url = directory.appendingPathComponent("convrt-npy-\(UUID().uuidString).npy")
            defer { try? FileManager.default.removeItem(at: url) }
            try NPY.write(tensor, to: url)
            let (back, notes) = try NPY.read(contentsOf: url)
            #expect(back == tensor)
            #expect(notes.isEmpty)
            #expect(try Data(contentsOf: url).count % 64 == Self.floatBytes(tensor.data).count % 64)
        }
    }

    @Test func specialValuesRoundTripBitExactly() throws {
        let values: [Float] = [.nan, -.infinity, .infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let tensor = Tensor(shape: [6], data: values)
        let back = try NPY.decode(NPY.encode(tensor), name: "x").tensor
        #expect(back.data.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func longHeadersSwitchToVersion2() {
        let header = NPY.header(shape: [Int](repeating: 1, count: 30000))
        #expect(header[6] == 2)
        #expect(header.count % 64 == 0)
        #expect(header.last == 0x0A)
        let short = NPY.header(shape: [2, 3])
        #expect(short[6] == 1 && short.count == 128)
    }

    // MARK: - Tolerant header parsing

    @Test(arguments: [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'descr':'<f4','fortran_order':False,'shape':(2,3)}",
        "{ \"shape\" : ( 2 , 3 , ) ,\n\t\"descr\" : \"<f4\" , \"fortran_order\" : False , }   \n",
        "{'descr': '=f4', 'fortran_order': False, 'shape': (2L, 3L), }",
        "{'descr': u'<f4', 'fortran_order': False, 'shape': [2, 3]}",
        "{'descr': 'f4', 'fortran_order': False, 'shape': (2, 3)}",
    ])
    func acceptsHeaderVariants(header: String) throws {
        let data = Self.image(header: header, payload: Self.floatBytes((0..<6).map(Float.init)))
        #expect(try NPY.decode(data, name: "v.npy").tensor == Self.arange(6, shape: [2, 3]))
    }

    @Test func version3HeadersAreUTF8AndOlderOnesLatin1() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), '\u{00E9}': 1}"
        let payload = Self.floatBytes([1])
        #expect(Self.errorMessage { _ = try NPY.decode(Self.image(header: header, version: 3, payload: payload), name: "h") }
                == "h: malformed .npy header: unexpected key '\u{00E9}'")
        #expect(Self.errorMessage { _ = try NPY.decode(Self.image(header: header, version: 2, payload: payload), name: "h") }
                == "h: malformed .npy header: unexpected key '\u{00C3}\u{00A9}'")
        var invalid = Self.image(header: header, version: 3, payload: payload)
        invalid[invalid.count - 10] = 0xFF  // break the UTF-8 sequence
        #expect(Self.errorMessage { _ = try NPY.decode(invalid, name: "h") } == "h: malformed .npy header: not valid UTF-8")
    }

    // MARK: - Malformed files

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "expected ',' or '}', found the end of the header at offset 56"),
        ("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", "expected ',' or '}', found '\\'' at offset 16"),
        ("[1, 2]", "expected a dict, found [1, 2]"),
        ("{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", "unexpected key 'x'"),
        ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", "duplicate key 'descr'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}",
         "'shape' entries must be non-negative integers, found (2, -3)"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", "expected ',' or ')', found '.' at offset 52"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", "'shape' must be a tuple, found 6"),
        ("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", "'fortran_order' must be True or False"),
        ("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", "expected ',' or '}', found 'f' at offset 17"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x", "unexpected text after the header dict at offset 56"),
        ("{'descr': '<f4', 'fortran_order': Flase, 'shape': (6,)}", "unexpected word 'Flase' at offset 39"),
        ("{1: '<f4'}", "dict keys must be strings at offset 2"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
         "integer '99999999999999999999' is out of range at offset 71"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 40) + "}",
         "nesting is too deep at offset 81"),
        ("{'descr': 'a\\qb', 'fortran_order': False, 'shape': (6,)}", "unsupported escape '\\q' in string at offset 14"),
        ("", "expected a value, found the end of the header at offset 0"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}", "expected an integer, found ',' at offset 52"),
        ("{'descr' '<f4'}", "expected ':' after key 'descr', found '\\'' at offset 9"),
        ("{'descr': '<f4\n', 'fortran_order': False, 'shape': (6,)}", "unterminated string at offset 15"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\u{0}", "unexpected text after the header dict at offset 57"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (\(String(repeating: "1, ", count: 65)))}",
         "rank 65 exceeds the limit of 64"),
    ])
    func rejectsMalformedHeaders(header: String, expected: String) {
        let message = Self.errorMessage { _ = try NPY.decode(Self.image(header: header), name: "bad.npy") }
        #expect(message == "bad.npy: malformed .npy header: " + expected)
    }

    @Test func rejectsBadPreambles() throws {
        let good = try Self.bytes("f4_v1.npy")
        let cases: [([UInt8], String)] = [
            ([], "file is too short to be a .npy file (0 bytes)"),
            (Array(good.prefix(9)), "file is too short to be a .npy file (9 bytes)"),
            (Array(good.prefix(40)), "header length 118 exceeds the file size (40 bytes)"),
            ([0x93] + Array("NUMPZ".utf8) + good.dropFirst(6), "not a .npy file (bad magic bytes)"),
            (Array(good.prefix(6)) + [4, 0] + good.dropFirst(8), "unsupported .npy format version 4.0"),
            (Array(good.prefix(6)) + [1, 1] + good.dropFirst(8), "unsupported .npy format version 1.1"),
            (Array(good.prefix(6)) + [2, 0, 0xFF], "file is too short to be a .npy file (9 bytes)"),
            (Array(good.prefix(6)) + [2, 0, 0xFF, 0xFF], "file is too short for a version 2.0 .npy header"),
            (Array(good.prefix(6)) + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF], "header length 4294967295 exceeds the file size (12 bytes)"),
            (Array(good.dropLast(4)), "data is truncated: shape [2, 3] of '<f4' needs 24 bytes, found 20"),
            (good + [0, 0, 0], "3 unexpected bytes after the array data"),
        ]
        for (data, expected) in cases {
            #expect(Self.errorMessage { _ = try NPY.decode(data, name: "p.npy") } == "p.npy: " + expected)
        }
    }

    @Test(arguments: [
        ("complex.npy", "unsupported dtype '<c8'"),
        ("unicode.npy", "unsupported dtype '<U3'"),
        ("structured.npy", "unsupported dtype [('a', '<f4'), ('b', '<i4')]"),
    ])
    func rejectsUnsupportedDtypes(file: String, expected: String) {
        let url = Self.fixture(file)
        #expect(Self.errorMessage { _ = try NPY.read(contentsOf: url) } == "\(url.path): \(expected)")
    }

    @Test(arguments: [
        ("|O", "(1,)", "unsupported dtype '|O'"),
        ("<f16", "(1,)", "unsupported dtype '<f16'"),
        ("<M8[ns]", "(1,)", "unsupported dtype '<M8[ns]'"),
        ("<f+4", "(1,)", "unsupported dtype '<f+4'"),
        ("", "(1,)", "unsupported dtype ''"),
        ("<f4", "(4294967296, 4294967296)", "shape [4294967296, 4294967296] is too large (limit 4294967296 elements)"),
        ("<f4", "(9223372036854775807, 2)", "shape [9223372036854775807, 2] is too large (limit 4294967296 elements)"),
        ("<f4", "(4294967297,)", "shape [4294967297] is too large (limit 4294967296 elements)"),
        ("<f4", "(100000000,)", "data is truncated: shape [100000000] of '<f4' needs 400000000 bytes, found 0"),
        ("<f8", "(4294967296,)", "data is truncated: shape [4294967296] of '<f8' needs 34359738368 bytes, found 0"),
    ])
    func rejectsBadDtypesAndShapes(descr: String, shape: String, expected: String) {
        let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        #expect(Self.errorMessage { _ = try NPY.decode(Self.image(header: header), name: "d.npy") } == "d.npy: " + expected)
    }

    @Test func zeroSizeArraysWithHugeDimensionsAreSafe() throws {
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (0, 4294967296, 2), }"
        let message = Self.errorMessage { _ = try NPY.decode(Self.image(header: header), name: "z.npy") }
        #expect(message == "z.npy: shape [0, 4294967296, 2] is too large (limit 4294967296 elements)")
        let fine = "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 0, 1000), }"
        #expect(try NPY.decode(Self.image(header: fine), name: "z.npy").tensor.shape == [3, 0, 1000])
    }

    @Test func missingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/convrt/w.npy")
        let message = Self.errorMessage { _ = try NPY.read(contentsOf: url) }
        #expect(message?.hasPrefix("/nonexistent/convrt/w.npy: cannot read file") == true)
    }

    /// Random corruption of valid files must never trap: every outcome is a tensor or a ConvRTError.
    @Test func corruptedFilesNeverTrap() throws {
        var generator = SplitMix64(seed: 7)
        for file in ["f4_v1.npy", "fortran_be_f8_4d.npy", "f2.npy", "scalar.npy"] {
            let original = try Self.bytes(file)
            for _ in 0..<400 {
                var data = original
                for _ in 0...(generator.next() % 4) {
                    let index = Int(generator.next() % UInt64(data.count))
                    data[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                if generator.next() % 5 == 0 { data.removeLast(Int(generator.next() % UInt64(data.count))) }
                let message = Self.errorMessage { _ = try NPY.decode(data, name: file) }
                #expect(message.map { !$0.hasPrefix("non-ConvRTError") } ?? true)
            }
        }
    }
}

// MARK: - .npz

extension NPYTests {
    static let archiveContents: [(name: String, tensor: Tensor, notes: [String])] = [
        ("a", arange(6, shape: [2, 3]), []),
        ("conv.weight", Tensor(shape: [3, 2], data: [-3, -2, -1, 0, 1, 2]), ["converted int64 to float32"]),
        ("scalar", Tensor(shape: [], data: [2.5]), ["converted float64 to float32"]),
    ]

    static func temporaryURL(_ suffix: String = ".npz") -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("convrt-npz-\(UUID().uuidString)\(suffix)")
    }

    @Test(arguments: ["stored.npz", "compressed.npz"])
    func readsNumpyArchives(file: String) throws {
        let entries = try NPZ.read(contentsOf: Self.fixture(file))
        #expect(entries.map(\.name) == Self.archiveContents.map(\.name))
        #expect(entries.map(\.tensor) == Self.archiveContents.map(\.tensor))
        #expect(entries.map(\.notes) == Self.archiveContents.map(\.notes))
    }

    @Test func errorsNameTheFileAndKey() {
        let url = Self.fixture("bad_dtype.npz")
        #expect(Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
                == "\(url.path): key 'conv.weight': unsupported dtype '<c8'")
    }

    @Test(arguments: [
        ("hang.npz", "key 'a': deflate data is corrupt"),
        ("overrun.npz", "key 'a': entry inflates to more than its declared size of 256 bytes"),
    ])
    func craftedDeflateStreamsFailInsteadOfHangingOrGrowing(file: String, expected: String) {
        let url = Self.fixture(file)
        let message = Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
        #expect(message?.hasPrefix("\(url.path): \(expected)") == true, "\(message ?? "no error")")
    }

    @Test func readsZIP64Records() throws {
        let entries = try NPZ.read(contentsOf: Self.fixture("zip64.npz"))
        #expect(entries.map(\.name) == ["big"])
        #expect(entries.first?.tensor == Self.arange(6, shape: [2, 3]))
        // Point the ZIP64 local-header offset (third 8-byte field of the extra) past the end.
        var data = try Self.bytes("zip64.npz")
        let central = try #require((0..<data.count - 4).first { data[$0..<$0 + 4].elementsEqual([0x50, 0x4B, 1, 2]) })
        for i in 0..<8 { data[central + 46 + 7 + 4 + 16 + i] = 0xFF }
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(data).write(to: url)
        #expect(Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
                == "\(url.path): zip local header offset 18446744073709551615 is larger than the file")
        // Point the ZIP64 end record's central-directory offset at 2^63 + 1 (ZIPFoundation traps on this).
        var huge = try Self.bytes("zip64.npz")
        let record = huge.count - 22 - 20 - 56
        for i in 0..<8 { huge[record + 48 + i] = i == 0 ? 1 : (i == 7 ? 0x80 : 0) }
        try Data(huge).write(to: url)
        #expect(Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
                == "\(url.path): zip central directory offset 9223372036854775809 is larger than the file")
    }

    @Test func totalSizeIsCapped() throws {
        let url = Self.fixture("compressed.npz")
        #expect(Self.errorMessage { _ = try NPZ.read(contentsOf: url, maxBytes: 300) }
                == "\(url.path): key 'conv.weight': uncompressed size 176 bytes exceeds the limit of 300 bytes for the archive (148 bytes left)")
        #expect(try NPZ.read(contentsOf: url, maxBytes: 152 + 176 + 136).count == 3)
    }

    @Test func corruptArchivesAreErrors() throws {
        let original = try Self.bytes("stored.npz")
        let entries = try original.withUnsafeBytes { try ZipReader.entries(in: $0) }
        var flipped = original
        flipped[entries[0].dataOffset + 130] ^= 1
        // The first central-directory entry ("a.npy"): patch its method, then its name.
        let central = try #require((0..<original.count - 4).first { original[$0..<$0 + 4].elementsEqual([0x50, 0x4B, 1, 2]) })
        var badMethod = original
        badMethod[central + 10] = 12
        var notNPY = original
        notNPY[central + 46 + 4] = UInt8(ascii: "z")
        let cases: [([UInt8], String)] = [
            (Array("just some text, not a zip file".utf8), "not a zip archive (no end of central directory record)"),
            ([], "not a zip archive (no end of central directory record)"),
            (Array(original.dropLast(10)), "not a zip archive (no end of central directory record)"),
            (Array(original.dropFirst(40)), "corrupt zip central directory (3 entries, 168 bytes at offset 644)"),
            ([0] + original.dropFirst(), "entry 'a.npy' has no local file header at offset 0"),
            (flipped, "key 'a': CRC-32 mismatch: the archive is corrupt"),
            (badMethod, "key 'a': unsupported zip compression method 12"),
            (notNPY, "entry 'a.npz' is not a .npy array"),
        ]
        for (data, expected) in cases {
            let url = Self.temporaryURL()
            defer { try? FileManager.default.removeItem(at: url) }
            try Data(data).write(to: url)
            let message = Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
            #expect(message == "\(url.path): \(expected)")
        }
    }

    @Test(arguments: [false, true])
    func roundTripsThroughAnArchive(compressed: Bool) throws {
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let entries: [(name: String, tensor: Tensor)] = [
            ("conv.weight", Tensor(shape: [4, 3, 3, 3], data: (0..<108).map { Float($0) / 7 })),
            ("bias", Tensor(shape: [4], data: [1, -2, .infinity, -0.0])),
            ("empty", Tensor(zeros: [0, 5])),
            ("scalar", Tensor(shape: [], data: [42])),
        ]
        try Data("previous contents".utf8).write(to: url)  // replaced, not appended to
        try NPZ.write(entries, to: url, compressed: compressed)
        let back = try NPZ.read(contentsOf: url)
        #expect(back.map(\.name) == entries.map(\.name))
        #expect(back.map(\.tensor) == entries.map(\.tensor))
        #expect(back.allSatisfy { $0.notes.isEmpty })
        let raw = [UInt8](try Data(contentsOf: url))
        let methods = try raw.withUnsafeBytes { try ZipReader.entries(in: $0) }.map(\.method)
        #expect(methods == [UInt16](repeating: compressed ? 8 : 0, count: 4))
    }

    @Test func writeRejectsDuplicateKeys() {
        let url = Self.temporaryURL()
        let tensor = Tensor(zeros: [1])
        #expect(Self.errorMessage { try NPZ.write([("w", tensor), ("w", tensor)], to: url) }
                == "\(url.path): duplicate key 'w'")
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    /// Random corruption of valid archives must never trap or hang.
    @Test func corruptedArchivesNeverTrap() throws {
        var generator = SplitMix64(seed: 11)
        for file in ["stored.npz", "compressed.npz"] {
            let original = try Self.bytes(file)
            for _ in 0..<300 {
                var data = original
                for _ in 0...(generator.next() % 3) {
                    let index = Int(generator.next() % UInt64(data.count))
                    data[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                let url = Self.temporaryURL()
                defer { try? FileManager.default.removeItem(at: url) }
                try Data(data).write(to: url)
                let message = Self.errorMessage { _ = try NPZ.read(contentsOf: url) }
                #expect(message.map { !$0.hasPrefix("non-ConvRTError") } ?? true)
            }
        }
    }
}

