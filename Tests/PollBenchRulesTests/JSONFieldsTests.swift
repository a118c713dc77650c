import PollBenchRules
import Testing

@Suite("JSON fields are read strictly, where they lie")
struct JSONFieldsTests {
    @Test("strings read, nested objects skipped or entered, broken bodies rejected")
    func strings() {
        let body = Array(#"{"a":"x\"y","n":1.5e3,"t":true,"z":null,"o":{"u":"v","deep":[1,{"k":[]}]},"s":"\u00e9"}"#.utf8)
        #expect(JSONFields.strings(body) == ["a": "x\"y", "s": "é"])
        #expect(JSONFields.object(body, field: "o") == ["u": "v"])
        for broken in [#"{"a":"x""#, #"{"a":"x"} x"#, #"{"a":}"#, "[1]", "", #"{"a":"x",}"#, "{\"a\":\"\u{1}\"}", #"{"a":tru}"#, #"{"a":2.e3}"#, #"{"a":01}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":.5}"#, #"{"a":"\q"}"#, #"{"a":"\u12"}"#] {
            #expect(JSONFields.strings(Array(broken.utf8)) == nil, "\(broken)")
        }
        #expect(JSONFields.strings([UInt8(ascii: "{"), 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x22, 0x22, UInt8(ascii: "}")]) == nil, "a key that is not UTF-8")
    }

    @Test("a document decodes only the field asked for: escaped keys and values, the last of a repeated name, absent and non-string fields")
    func lookups() throws {
        let document = try #require(JSONFields.document(Array(#"{"status":"pending","st\u0061tus":"completed","n":1,"z":null,"q":"a\/b","é":"ü"}"#.utf8)))
        #expect(document["status"] == "completed")
        #expect(document["q"] == "a/b")
        #expect(document["é"] == "ü")
        #expect(document["n"] == nil && document["z"] == nil && document["missing"] == nil && document["statu"] == nil)
        #expect(document.dictionary == ["status": "completed", "q": "a/b", "é": "ü"])
    }
}
