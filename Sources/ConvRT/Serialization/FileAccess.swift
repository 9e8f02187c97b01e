import Foundation

/// Reading and writing whole files with one error wording everywhere:
/// `PATH: cannot read file: No such file or directory`, PATH as the user gave it.
enum FileAccess {
    /// - Parameter mapped: Map the file instead of reading it, so only the pages a reader
    ///   touches take memory (a large `.npy` refused by its header costs nothing).
    static func read(_ url: URL, mapped: Bool = false) throws -> Data {
        var info = stat()
        if stat(url.path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            // A device or FIFO (`/dev/zero`, `/dev/stdin`) would be read until memory runs out.
            guard type == S_IFREG || type == S_IFDIR else {
                throw ConvRTError("\(displayName(url)): cannot read file: not a regular file")
            }
            // Empty: nothing to read (Foundation's reader also leaks a page on empty files).
            if type == S_IFREG, info.st_size == 0 { return Data() }
            if mapped, type == S_IFREG, let data = map(url.path, size: Int(info.st_size)) { return data }
        }
        do {
            return try Data(contentsOf: url, options: mapped ? .mappedIfSafe : [])
        } catch {
            throw ConvRTError("\(displayName(url)): cannot read file: \(reason(error))")
        }
    }

    /// The first `count` bytes (fewer for a shorter file), with `read`'s checks and errors.
    static func readPrefix(_ url: URL, count: Int) throws -> [UInt8] {
        var info = stat()
        guard stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            _ = try read(url)  // its error: missing, a directory, a device
            return []
        }
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            // The throwing read: `readData(ofLength:)` traps on errors.
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        } catch {
            throw ConvRTError("\(displayName(url)): cannot read file: \(reason(error))")
        }
    }

    /// The file mapped copy-on-write (writes stay private), unmapped when the `Data` goes away;
    /// `nil` if it cannot be mapped (the caller reads it instead).
    private static func map(_ path: String, size: Int) -> Data? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard let pointer = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0),
              pointer != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        return Data(bytesNoCopy: pointer, count: size, deallocator: .custom { pointer, size in munmap(pointer, size) })
    }

    static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ConvRTError("\(displayName(url)): cannot write file: \(reason(error))")
        }
    }

    /// The path as the user gave it, for messages.
    static func displayName(_ url: URL) -> String {
        url.isFileURL ? url.relativePath : url.absoluteString
    }

    /// A one-line reason for a Foundation file error (Linux's `localizedDescription` is often
    /// generic; the POSIX code is not).
    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain, let text = strerror(Int32(truncatingIfNeeded: posix.code)) {
                return String(cString: text)
            }
        }
        return ns.localizedDescription
    }
}
