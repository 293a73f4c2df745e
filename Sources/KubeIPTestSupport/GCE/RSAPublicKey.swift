#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An RSA public key that checks RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures, in
/// plain Swift: the simulator does not link libcrypto, and a test double that accepted any
/// signature would prove nothing about the signer. Verification only, on public data, so
/// constant time does not matter here.
struct RSAPublicKey: Sendable {
    /// Modulus, big-endian, no leading zero bytes.
    let modulus: [UInt8]
    /// Public exponent, big-endian.
    let exponent: [UInt8]

    /// Reads `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) or
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS #1) PEM text.
    init?(pem: String) {
        let lines = pem.split(whereSeparator: \.isNewline).map { trimmed(String($0)) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") }),
              let end = lines.firstIndex(where: { $0.hasPrefix("-----END ") }), begin < end,
              let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()).map(Array.init) else { return nil }
        if lines[begin].contains("RSA PUBLIC KEY") {
            self.init(pkcs1: der)
        } else if lines[begin].contains("PUBLIC KEY") {
            // SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING }
            var reader = DERReader(der)
            guard var info = reader.read(tag: 0x30).map(DERReader.init),
                  var algorithm = info.read(tag: 0x30).map(DERReader.init),
                  algorithm.read(tag: 0x06) == [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01],
                  let bits = info.read(tag: 0x03), bits.first == 0 else { return nil }
            self.init(pkcs1: Array(bits.dropFirst()))
        } else {
            return nil
        }
    }

    /// Reads a DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    init?(pkcs1 der: [UInt8]) {
        var outer = DERReader(der)
        guard var key = outer.read(tag: 0x30).map(DERReader.init),
              let n = key.read(tag: 0x02), let e = key.read(tag: 0x02) else { return nil }
        modulus = Array(n.drop { $0 == 0 })
        exponent = Array(e.drop { $0 == 0 })
        guard modulus.count >= 64, modulus.last.map({ $0 & 1 == 1 }) == true, !exponent.isEmpty else { return nil }
    }

    /// Whether `signature` is a valid RS256 signature of `message` under this key.
    func verifyRS256(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == modulus.count else { return false }
        let arithmetic = Montgomery(modulus: modulus)
        let s = Montgomery.limbs(signature, count: arithmetic.count)
        guard Montgomery.compare(s, arithmetic.n) < 0 else { return false }
        let m = arithmetic.power(s, exponent: exponent)
        let encoded = Montgomery.bytes(m, length: modulus.count)
        // EMSA-PKCS1-v1_5: 00 01 FF..FF 00 DigestInfo(SHA-256) H
        let digestInfo: [UInt8] = [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                                   0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        let tail = digestInfo + SHA256Digest.hash(message)
        let padding = modulus.count - 3 - tail.count
        guard padding >= 8 else { return false }
        let expected = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: padding) + [0x00] + tail
        return encoded == expected
    }
}

/// A minimal DER reader: tag, length (short or long form), contents.
struct DERReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Reads the next element if it has `tag`, answering its contents.
    mutating func read(tag: UInt8) -> [UInt8]? {
        guard index + 2 <= bytes.count, bytes[index] == tag else { return nil }
        var cursor = index + 1
        var length = Int(bytes[cursor])
        cursor += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count > 0, count <= 4, cursor + count <= bytes.count else { return nil }
            length = bytes[cursor..<cursor + count].reduce(0) { $0 << 8 | Int($1) }
            cursor += count
        }
        guard cursor + length <= bytes.count else { return nil }
        index = cursor + length
        return Array(bytes[cursor..<cursor + length])
    }
}

/// Modular exponentiation by Montgomery multiplication on 32-bit limbs (least significant first).
struct Montgomery {
    let n: [UInt32]
    let count: Int
    /// -n⁻¹ mod 2³².
    let nPrime: UInt32
    /// R² mod n, R = 2^(32·count).
    let rSquared: [UInt32]

    init(modulus: [UInt8]) {
        count = (modulus.count + 3) / 4
        n = Montgomery.limbs(modulus, count: count)
        var inverse: UInt32 = 1
        for _ in 0..<5 { inverse = inverse &* (2 &- n[0] &* inverse) }
        nPrime = 0 &- inverse
        var x = [UInt32](repeating: 0, count: count)
        x[0] = 1
        for _ in 0..<(64 * count) { x = Montgomery.doubled(x, modulo: n) }
        rSquared = x
    }

    /// Big-endian bytes to `count` limbs.
    static func limbs(_ bytes: [UInt8], count: Int) -> [UInt32] {
        var limbs = [UInt32](repeating: 0, count: count)
        for (position, byte) in bytes.reversed().enumerated() where position / 4 < count {
            limbs[position / 4] |= UInt32(byte) << (8 * UInt32(position % 4))
        }
        return limbs
    }

    /// Limbs to `length` big-endian bytes.
    static func bytes(_ limbs: [UInt32], length: Int) -> [UInt8] {
        (0..<length).reversed().map { position in
            position / 4 < limbs.count ? UInt8(truncatingIfNeeded: limbs[position / 4] >> (8 * UInt32(position % 4))) : 0
        }
    }

    /// -1, 0 or 1 as a <, =, > b (same limb count).
    static func compare(_ a: [UInt32], _ b: [UInt32]) -> Int {
        for i in stride(from: max(a.count, b.count) - 1, through: 0, by: -1) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// a - b for a ≥ b, over a's limb count.
    static func subtract(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result = a
        var borrow: Int64 = 0
        for i in 0..<a.count {
            var difference = Int64(a[i]) - Int64(i < b.count ? b[i] : 0) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 1 << 32 }
            result[i] = UInt32(difference)
        }
        return result
    }

    /// 2x mod n for x < n.
    static func doubled(_ x: [UInt32], modulo n: [UInt32]) -> [UInt32] {
        var result = [UInt32](repeating: 0, count: x.count + 1)
        var carry: UInt32 = 0
        for i in 0..<x.count {
            result[i] = x[i] << 1 | carry
            carry = x[i] >> 31
        }
        result[x.count] = carry
        if compare(result, n) >= 0 { result = subtract(result, n) }
        return Array(result.prefix(x.count))
    }

    /// a·b·R⁻¹ mod n.
    func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var t = [UInt32](repeating: 0, count: count + 2)
        for i in 0..<count {
            var carry: UInt64 = 0
            for j in 0..<count {
                let sum = UInt64(t[j]) + UInt64(a[j]) * UInt64(b[i]) + carry
                t[j] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            var sum = UInt64(t[count]) + carry
            t[count] = UInt32(truncatingIfNeeded: sum)
            t[count + 1] = UInt32(sum >> 32)
            let m = t[0] &* nPrime
            sum = UInt64(t[0]) + UInt64(m) * UInt64(n[0])
            carry = sum >> 32
            for j in 1..<count {
                sum = UInt64(t[j]) + UInt64(m) * UInt64(n[j]) + carry
                t[j - 1] = UInt32(truncatingIfNeeded: sum)
                carry = sum >> 32
            }
            sum = UInt64(t[count]) + carry
            t[count - 1] = UInt32(truncatingIfNeeded: sum)
            t[count] = t[count + 1] + UInt32(sum >> 32)
            t[count + 1] = 0
        }
        var result = Array(t.prefix(count + 1))
        if Montgomery.compare(result, n) >= 0 { result = Montgomery.subtract(result, n) }
        return Array(result.prefix(count))
    }

    /// base^exponent mod n (base < n; exponent big-endian bytes).
    func power(_ base: [UInt32], exponent: [UInt8]) -> [UInt32] {
        let baseM = multiply(base, rSquared)
        var one = [UInt32](repeating: 0, count: count)
        one[0] = 1
        var result = multiply(one, rSquared)
        for byte in exponent {
            for bit in stride(from: 7, through: 0, by: -1) {
                result = multiply(result, result)
                if (byte >> UInt8(bit)) & 1 == 1 { result = multiply(result, baseM) }
            }
        }
        return multiply(result, one)
    }
}
