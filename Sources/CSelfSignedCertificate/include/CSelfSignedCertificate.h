// A self-signed TLS server certificate made with the system's OpenSSL libcrypto (the library libcurl
// already loads), so that pollbench builds one BoringSSL (swift-nio-ssl's) rather than two.
#ifndef POLLBENCH_SELF_SIGNED_CERTIFICATE_H
#define POLLBENCH_SELF_SIGNED_CERTIFICATE_H

/// A fresh P-256 key and an X.509 v3 certificate signed with it (ECDSA with SHA-256) for the subject
/// alternative names in `alt_names` (OpenSSL's syntax: "DNS:localhost,IP:127.0.0.1"), common name
/// `common_name`, valid from `valid_from_offset` seconds (negative: in the past) to `valid_for` seconds
/// from now. On success returns 0 and sets the two PEM strings, which the caller frees with free();
/// on failure returns the step that failed (1 and up) and sets nothing.
int pollbench_self_signed_certificate(const char *common_name, const char *alt_names, long valid_from_offset,
                                      long valid_for, char **certificate_pem, char **private_key_pem);

#endif
