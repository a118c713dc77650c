import CCurl
import PollBenchCore
import PollBenchRules

/// Turns curl's result codes into Swift errors at the boundary.
enum CurlCode {
    /// Makes sure `curl_global_init` ran once before any handle exists.
    static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// The ``TransportError`` for a failed transfer, keeping curl's code and the handle's message.
    static func transportError(_ code: CURLcode, message: String) -> TransportError {
        let text = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        return TransportError(kind: kind(of: code), code: Int(code.rawValue), message: text)
    }

    static func kind(of code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT: .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dns
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM: .connectionReset
        case CURLE_PARTIAL_FILE: .truncated
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED:
            .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION:
            .invalidRequest
        default: .other
        }
    }
}

/// A failed `curl_easy_setopt` or `curl_multi_setopt` while preparing a handle.
struct CurlSetupError: Error, CustomStringConvertible {
    let description: String
}

extension CURLcode {
    /// Throws unless the call succeeded.
    func check(_ what: @autoclosure () -> String) throws(CurlSetupError) {
        guard self == CURLE_OK else {
            throw CurlSetupError(description: "\(what()): \(String(cString: curl_easy_strerror(self)))")
        }
    }
}

extension CURLMcode {
    /// Throws unless the call succeeded.
    func check(_ what: @autoclosure () -> String) throws(CurlSetupError) {
        guard self == CURLM_OK else {
            throw CurlSetupError(description: "\(what()): \(String(cString: curl_multi_strerror(self)))")
        }
    }
}
