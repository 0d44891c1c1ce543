/// A fast matcher for the regular expressions Switchboard's schemas use: an anchored sequence of literals and
/// character classes, each with a quantifier (`^\+[1-9][0-9]{6,14}$`, `^[A-Za-z0-9_-]{1,64}$`…).
/// Patterns outside this subset (alternation, groups, unanchored) return nil and fall back to NSRegularExpression.
struct SimplePattern: Sendable {
    private struct Atom: Sendable {
        var ranges: [ClosedRange<UInt32>]
        var minimum: Int
        var maximum: Int

        func matches(_ scalar: UInt32) -> Bool { ranges.contains { $0.contains(scalar) } }
    }

    private let atoms: [Atom]

    init?(_ source: String) {
        var scalars = Array(source.unicodeScalars)
        guard scalars.first == "^", scalars.last == "$", scalars.count >= 2 else { return nil }
        scalars = Array(scalars[1..<(scalars.count - 1)])
        var atoms: [Atom] = []
        var index = 0

        func escaped(_ scalar: Unicode.Scalar, at position: inout Int) -> [ClosedRange<UInt32>]? {
            switch scalar {
            case "d": return [48...57]
            case "x":
                guard position + 2 < scalars.count,
                    let value = UInt32(
                        String(String.UnicodeScalarView(scalars[(position + 1)...(position + 2)])), radix: 16)
                else { return nil }
                position += 2
                return [value...value]
            case "w", "s", "b", "D", "W", "S", "B": return nil
            default: return [scalar.value...scalar.value]
            }
        }

        while index < scalars.count {
            var ranges: [ClosedRange<UInt32>]
            let scalar = scalars[index]
            switch scalar {
            case "[":
                index += 1
                ranges = []
                guard index < scalars.count, scalars[index] != "^" else { return nil }
                while index < scalars.count, scalars[index] != "]" {
                    var low: UInt32
                    if scalars[index] == "\\" {
                        index += 1
                        guard index < scalars.count, let single = escaped(scalars[index], at: &index), single.count == 1
                        else { return nil }
                        low = single[0].lowerBound
                        if single[0].lowerBound != single[0].upperBound {
                            ranges.append(single[0]); index += 1; continue
                        }
                    } else {
                        low = scalars[index].value
                    }
                    if index + 2 < scalars.count, scalars[index + 1] == "-", scalars[index + 2] != "]" {
                        index += 2
                        var high = scalars[index].value
                        if scalars[index] == "\\" {
                            index += 1
                            guard index < scalars.count, let single = escaped(scalars[index], at: &index),
                                single.count == 1
                            else { return nil }
                            high = single[0].lowerBound
                        }
                        guard low <= high else { return nil }
                        ranges.append(low...high)
                    } else {
                        ranges.append(low...low)
                    }
                    index += 1
                }
                guard index < scalars.count else { return nil }
                index += 1
            case "\\":
                index += 1
                guard index < scalars.count, let class_ = escaped(scalars[index], at: &index) else { return nil }
                ranges = class_
                index += 1
            case "(", ")", "|", ".", "*", "+", "?", "{", "}", "^", "$":
                return nil
            default:
                ranges = [scalar.value...scalar.value]
                index += 1
            }
            var minimum = 1
            var maximum = 1
            if index < scalars.count {
                switch scalars[index] {
                case "+": maximum = Int.max; index += 1
                case "*": minimum = 0; maximum = Int.max; index += 1
                case "?": minimum = 0; index += 1
                case "{":
                    guard let close = scalars[index...].firstIndex(of: "}") else { return nil }
                    let body = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                    let parts = body.split(separator: ",", omittingEmptySubsequences: false)
                    guard let low = Int(parts[0]) else { return nil }
                    minimum = low
                    maximum = parts.count == 1 ? low : (parts[1].isEmpty ? Int.max : (Int(parts[1]) ?? -1))
                    guard maximum >= minimum else { return nil }
                    index = close + 1
                default: break
                }
            }
            atoms.append(Atom(ranges: ranges, minimum: minimum, maximum: maximum))
        }
        self.atoms = atoms
    }

    func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        return match(scalars, 0, 0)
    }

    /// Backtracking over atoms; the schemas' patterns are linear in practice (adjacent classes rarely overlap).
    private func match(_ scalars: [Unicode.Scalar], _ atomIndex: Int, _ position: Int) -> Bool {
        guard atomIndex < atoms.count else { return position == scalars.count }
        let atom = atoms[atomIndex]
        var count = 0
        while count < atom.maximum, position + count < scalars.count, atom.matches(scalars[position + count].value) {
            count += 1
        }
        guard count >= atom.minimum else { return false }
        if atomIndex == atoms.count - 1 { return position + count == scalars.count }
        while count >= atom.minimum {
            if match(scalars, atomIndex + 1, position + count) { return true }
            count -= 1
        }
        return false
    }
}
