/// Numbers as reports print them: whole numbers without decimals, others with two.
public enum NumberText {
    /// `3`, `2.50`, `0.03`.
    public static func short(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.2f", value)
    }
}
