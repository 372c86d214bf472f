// A Duration in the units timeouts, rates and reports need. Every layer above uses these
// instead of spelling out `components.seconds` and `components.attoseconds` again.

extension Duration {
    /// The duration in seconds, with its fraction (`1.5` for 1500 ms).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in milliseconds, with its fraction (`0.25` for 250 µs).
    public var inMilliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }

    /// Whole milliseconds, the fraction dropped (rounded toward zero).
    public var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// Whole microseconds, the fraction dropped (rounded toward zero).
    public var wholeMicroseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }

    /// Whole nanoseconds, the fraction dropped (rounded toward zero).
    public var wholeNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
