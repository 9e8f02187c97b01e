import Foundation

/// Reading and writing whole files with one error wording everywhere:
/// `PATH: cannot read file: No such file or directory`, PATH as the user gave it.
enum FileAccess {
    static func read(_ url: URL, mapped: Bool = false) throws -> Data {
        // A device or FIFO (`/dev/zero`, `/dev/stdin`) would be read until memory runs out.
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFDIR {
            throw ConvRTError("\(displayName(url)): cannot read file: not a regular file")
        }
        do {
            return try Data(contentsOf: url, options: mapped ? .mappedIfSafe : [])
        } catch {
            throw ConvRTError("\(displayName(url)): cannot read file: \(reason(error))")
        }
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
