/// Returns the candidate closest to a misspelled `word`, or `nil` when none is close.
///
/// Used for "did you mean" hints on unknown layers and arguments. The comparison ignores
/// case (`Conv2D` -> `Conv2d`, `Relu` -> `ReLU`). A candidate counts as close when its
/// Levenshtein distance is at most a third of the longer word (at least 1) and less than the
/// shorter word's length, or when one word is a prefix of the other and the shorter has 3+
/// characters (`kernel` -> `kernel_size`).
/// Ties go to the earlier candidate.
public func closestMatch(_ word: String, in candidates: [String]) -> String? {
    let lowered = Array(word.lowercased())
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let other = Array(candidate.lowercased())
        let distance = editDistance(lowered, other)
        guard isClose(lowered, other, distance: distance) else { continue }
        if let current = best, current.distance <= distance { continue }
        best = (candidate, distance)
    }
    return best?.name
}

private func isClose(_ a: [Character], _ b: [Character], distance: Int) -> Bool {
    // Never suggest a word that shares nothing: `y` for `x` helps nobody.
    if distance <= max(1, max(a.count, b.count) / 3), distance < min(a.count, b.count) { return true }
    let (short, long) = a.count <= b.count ? (a, b) : (b, a)
    return short.count >= 3 && long.starts(with: short)
}

/// Levenshtein distance (insert, delete, substitute each cost 1), two-row dynamic programming.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
