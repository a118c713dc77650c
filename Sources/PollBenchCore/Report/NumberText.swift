/// Numbers as reports print them: whole numbers without decimals, others with two.
public enum NumberText {
    /// `3`, `2.50`, `0.03`.
    public static func short(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// Two decimals, never `-0.00`: a value that rounds to zero prints as `0.00` whatever its sign.
    public static func twoDecimals(_ value: Double) -> String {
        String(format: "%.2f", (value * 100).rounded() / 100 + 0)
    }

    /// The dash tables print for a figure with no data (an empty distribution), never a 0.
    public static let noData = "–"

    /// `format(value)`, or ``noData`` when there is no value.
    public static func orNoData(_ value: Double?, _ format: (Double) -> String) -> String {
        value.map(format) ?? noData
    }

    /// Milliseconds as seconds with two decimals (`1.75 s`), or ``noData``.
    public static func seconds(fromMillis millis: Double?) -> String {
        orNoData(millis) { String(format: "%.2f s", $0 / 1_000) }
    }
}
