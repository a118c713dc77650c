/// Builds SVG text: escaped attributes and content, paths from points.
public enum SVG {
    /// Escapes text for XML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// An element with attributes (in order) and optional content (already SVG).
    public static func element(_ name: String, _ attributes: [(String, String)], _ content: String? = nil) -> String {
        let attrs = attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
        guard let content else { return "<\(name)\(attrs)/>" }
        return "<\(name)\(attrs)>\(content)</\(name)>"
    }

    /// A text element.
    public static func text(_ value: String, x: Double, y: Double, anchor: String = "middle", className: String = "label") -> String {
        element("text", [("x", number(x)), ("y", number(y)), ("text-anchor", anchor), ("class", className)], escape(value))
    }

    /// A polyline path through the points: `M x,y L x,y …`.
    public static func path(_ points: [(x: Double, y: Double)]) -> String {
        points.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(number(p.x)),\(number(p.y))" }.joined(separator: " ")
    }

    /// A coordinate with at most two decimals.
    public static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
